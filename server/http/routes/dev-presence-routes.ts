import { Router } from 'express';
import { DevPresenceLookupBody, type DevPresenceLookupResponse } from '../../../protocol/http/dev-presence';
import type { AppContext } from '../../context';
import { mapLimit } from '../../lib/map-limit';
import { parseInput } from '../validate';

/** Dev mode only: what the presence store holds for some users (the load tester's difference report). */
export function devPresenceRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/api/dev/presence/lookup', async (req, res) => {
    const { userIds } = parseInput(DevPresenceLookupBody, req.body, 'body');
    const now = ctx.now();
    const stays: DevPresenceLookupResponse['stays'] = [];
    await mapLimit([...new Set(userIds)], 16, async (userId) => {
      const p = await ctx.presence.get(userId, now);
      if (p)
        stays.push({
          userId,
          venueId: p.venueId,
          checkedInAt: p.checkedInAt,
          lastSeenAt: p.lastSeenAt,
          expiresAt: p.expiresAt,
          node: p.nodeId ?? null,
        });
    });
    const body: DevPresenceLookupResponse = { now, stays };
    res.json(body);
  });
  return router;
}
