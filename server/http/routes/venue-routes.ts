import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { DEFAULT_RADIUS_METERS, NearbyVenuesQuery } from '../../../protocol/http/venues';
import { maybeUserId, optionalUser } from '../../auth/optional-user';
import type { AppContext } from '../../context';
import { nearbyVenues, venueById } from '../../venues/venue-service';
import { parseInput } from '../validate';

const DEFAULT_LIMIT = 50;

/** Readable signed out (the web map); signed in, each venue also lists the caller's friends there. */
export function venueRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = optionalUser(ctx.tokens);

  router.get('/api/venues', auth, async (req, res) => {
    const q = parseInput(NearbyVenuesQuery, req.query, 'query');
    const result = await nearbyVenues(
      ctx,
      { lat: q.lat, lng: q.lng, radiusMeters: q.radius ?? DEFAULT_RADIUS_METERS, limit: q.limit ?? DEFAULT_LIMIT },
      maybeUserId(res),
    );
    res.json(result);
  });

  router.get('/api/venues/:id', auth, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'venue id');
    res.json({ venue: await venueById(ctx, id, maybeUserId(res)) });
  });

  return router;
}
