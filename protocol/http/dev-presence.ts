import { z } from 'zod';
import { Id } from '../schemas';
import type { HttpOperation } from './operation';

/**
 * Dev mode only: the stays the server holds for some users, as its presence store has them. The load
 * tester reads them to name the users behind a difference its judge finds, in embedded mode too (where
 * the store lives inside the server process).
 */
export const DevPresenceLookupBody = z.strictObject({ userIds: z.array(Id).min(1).max(10_000) });
export type DevPresenceLookupBody = z.infer<typeof DevPresenceLookupBody>;

export const DevStayView = z.object({
  userId: z.string(),
  venueId: z.string(),
  checkedInAt: z.number(),
  lastSeenAt: z.number(),
  expiresAt: z.number(),
  node: z.string().nullable(),
});
export const DevPresenceLookupResponse = z.object({ now: z.number(), stays: z.array(DevStayView) });
export type DevPresenceLookupResponse = z.infer<typeof DevPresenceLookupResponse>;

export const devPresenceOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/dev/presence/lookup',
    summary: 'Dev mode only: the unexpired stays of the given users, as the presence store holds them',
    tag: 'dev',
    auth: 'none',
    devOnly: true,
    body: DevPresenceLookupBody,
    responses: { 200: DevPresenceLookupResponse },
  },
];
