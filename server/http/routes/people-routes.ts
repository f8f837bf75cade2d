import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { VenuePeopleQuery } from '../../../protocol/http/people';
import type { AppContext } from '../../context';
import { listPeopleAt } from '../../venue-people/people-list';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** Who is here and open to a treat: only for people checked in at the same venue. */
export function peopleRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/api/venues/:id/people', requireUser(ctx.tokens), async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'venue id');
    const { wants } = parseInput(VenuePeopleQuery, req.query, 'query');
    // Where people are right now is never worth caching, least of all by a shared proxy.
    res.set('cache-control', 'no-store');
    res.json(await listPeopleAt(ctx, userIdOf(res), id, wants));
  });
  return router;
}
