import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { DEFAULT_RADIUS_METERS, NearbyVenuesQuery } from '../../../protocol/http/venues';
import { maybeUserId, optionalUser } from '../../auth/optional-user';
import type { AppContext } from '../../context';
import { JsonAnswers } from '../../venues/json-answer';
import type { VenueAnswers } from '../../venues/venue-answers';
import { nearbyVenuesPerRequest, venueByIdPerRequest } from '../../venues/venue-service';
import { parseInput } from '../validate';

const DEFAULT_LIMIT = 50;

/** Readable signed out (the web map); signed in, each venue also lists the caller's friends there. */
export interface VenueReadSettings {
  /** VENUES_READS: answered from node memory, or from the cache and stores on every request. */
  reads: 'memory' | 'per-request';
  cacheSeconds: number;
}

export function venueRoutes(ctx: AppContext, answers: VenueAnswers, settings: VenueReadSettings): Router {
  const router = Router();
  const auth = optionalUser(ctx.tokens);
  const json = new JsonAnswers();
  const perRequest = settings.reads === 'per-request';

  router.get('/api/venues', auth, async (req, res) => {
    const q = parseInput(NearbyVenuesQuery, req.query, 'query');
    const query = { lat: q.lat, lng: q.lng, radiusMeters: q.radius ?? DEFAULT_RADIUS_METERS, limit: q.limit ?? DEFAULT_LIMIT };
    const userId = maybeUserId(res);
    if (perRequest) {
      res.json(await nearbyVenuesPerRequest(ctx, settings.cacheSeconds, query, userId));
      return;
    }
    await json.send(req, res, await answers.nearby(query, userId), {
      personal: userId !== null,
      repeatKey: `${userId ?? ''} ${req.originalUrl}`,
    });
  });

  router.get('/api/venues/:id', auth, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'venue id');
    const userId = maybeUserId(res);
    if (perRequest) {
      res.json({ venue: await venueByIdPerRequest(ctx, settings.cacheSeconds, id, userId) });
      return;
    }
    await json.send(req, res, await answers.byId(id, userId), {
      personal: userId !== null,
      repeatKey: `${userId ?? ''} ${req.originalUrl}`,
    });
  });

  return router;
}
