import { z } from 'zod';
import type {
  CheckInResult,
  ClientToServerEvents,
  PersonAtVenue,
  PresenceView,
  ServerToClientEvents,
  VenueCount,
  VenuePeopleMessage,
} from './events';
import { OrderViewSchema, RedemptionViewSchema } from './http/orders';
import { PersonAtVenueView } from './http/people';

/**
 * Schemas of what the server sends over the socket (messages and ack data), for the AsyncAPI document.
 * The TypeScript types in events.ts stay the source; the checks at the bottom fail to compile when a
 * schema here and its type drift apart.
 */
export const VenueCountSchema = z.object({ venueId: z.string(), count: z.number().int(), version: z.number().int() });
export const PresenceViewSchema = z.object({
  venueId: z.string(),
  checkedInAt: z.string(),
  expiresAt: z.string(),
  wantsToBuy: z.boolean(),
  wantsToReceive: z.boolean(),
  visible: z.boolean(),
});
export const CheckInResultSchema = z.object({
  presence: PresenceViewSchema,
  previousVenueId: z.string().nullable(),
  count: VenueCountSchema,
});
// One person schema for the REST list and the live stream: they carry the same rows.
const PersonAtVenueSchema = PersonAtVenueView;
export const VenuePeopleMessageSchema = z.object({
  venueId: z.string(),
  changes: z.array(
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('upsert'), person: PersonAtVenueSchema }),
      z.object({ type: z.literal('remove'), userId: z.string() }),
    ]),
  ),
});

type Msg<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];
type AckData<E extends keyof ClientToServerEvents> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends infer A
  ? A extends { ok: true; data: infer D }
    ? D
    : never
  : never;

export const serverMessageSchemas = {
  'venue:count': VenueCountSchema,
  'venue:snapshot': z.object({ counts: z.array(VenueCountSchema) }),
  'friend:presence': z.object({ userId: z.string(), venueId: z.string().nullable() }),
  'venue:people': VenuePeopleMessageSchema,
  'order:received': z.object({ order: OrderViewSchema }),
  'order:updated': z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema.optional() }),
  'order:paid': z.object({ order: OrderViewSchema }),
  'redemption:new': z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema }),
  'server:shutdown': z.object({ reconnectAfterMs: z.number().int() }),
  'auth:expired': z.object({ reason: z.enum(['expired', 'revoked']) }),
} satisfies { [E in keyof ServerToClientEvents]: z.ZodType<Msg<E>> };

export const ackDataSchemas = {
  'presence:checkin': CheckInResultSchema,
  'presence:heartbeat': z.object({ presence: PresenceViewSchema.nullable() }),
  'presence:leave': z.object({ left: z.boolean() }),
  'presence:update': z.object({ presence: PresenceViewSchema }),
  'venue:watch': z.object({ counts: z.array(VenueCountSchema) }),
  'venue:unwatch': z.object({ watching: z.number().int() }),
  'map:watch': z.object({ counts: z.array(VenueCountSchema) }),
  'map:unwatch': z.object({ watching: z.number().int() }),
  'staff:join': z.object({ venueId: z.string() }),
  'auth:refresh': z.object({ expiresAt: z.string() }),
} satisfies { [E in keyof ClientToServerEvents]: z.ZodType<AckData<E>> };

// Compile-time: each schema's output is assignable to the protocol type (and so cannot silently drift).
type Assignable<A, B> = [A] extends [B] ? true : never;
const _checks: [
  Assignable<z.infer<typeof VenueCountSchema>, VenueCount>,
  Assignable<z.infer<typeof PresenceViewSchema>, PresenceView>,
  Assignable<z.infer<typeof CheckInResultSchema>, CheckInResult>,
  Assignable<z.infer<typeof PersonAtVenueSchema>, PersonAtVenue>,
  Assignable<z.infer<typeof VenuePeopleMessageSchema>, VenuePeopleMessage>,
] = [true, true, true, true, true];
void _checks;
