import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { MAX_PEOPLE_PER_PAGE, VenuePeopleQuery } from '../../../protocol/http/people';
import type { AppContext } from '../../context';
import { listPeopleAt } from '../../venue-people/people-list';
import { pageOf } from '../../venue-people/people-pages';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** Who is here and open to a treat: only for people checked in at the same venue. */
export function peopleRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/api/venues/:id/people', requireUser(ctx.tokens), async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'venue id');
    const { wants, limit, cursor } = parseInput(VenuePeopleQuery, req.query, 'query');
    // Where people are right now is never worth caching, least of all by a shared proxy.
    res.set('cache-control', 'no-store');
    const list = await listPeopleAt(ctx, userIdOf(res), id, wants);
    res.json(limit === undefined && cursor === undefined ? list : pageOf(list, { limit, cursor }, MAX_PEOPLE_PER_PAGE));
  });
  return router;
}
