import { z } from 'zod';

/**
 * Payload schemas for every client→server message. The server parses with these; clients and the
 * load tester may use them to build payloads. Limits are deliberately tight: a phone never needs more.
 */
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be an id');
export const Latitude = z.number().finite().min(-90).max(90);
export const Longitude = z.number().finite().min(-180).max(180);

export const CheckInPayload = z.strictObject({
  venueId: Id,
  lat: Latitude,
  lng: Longitude,
  wantsToBuy: z.boolean().optional(),
  wantsToReceive: z.boolean().optional(),
  visible: z.boolean().optional(),
});
export type CheckInPayload = z.infer<typeof CheckInPayload>;

export const HeartbeatPayload = z.strictObject({ lat: Latitude.optional(), lng: Longitude.optional() });
export type HeartbeatPayload = z.infer<typeof HeartbeatPayload>;

export const EmptyPayload = z.strictObject({});
export type EmptyPayload = z.infer<typeof EmptyPayload>;

/** `venueId`, when given, makes a late leave harmless: it ends only a stay at that venue. */
export const LeavePayload = z.strictObject({ venueId: Id.optional() });
export type LeavePayload = z.infer<typeof LeavePayload>;

export const PresenceUpdatePayload = z
  .strictObject({ wantsToBuy: z.boolean().optional(), wantsToReceive: z.boolean().optional(), visible: z.boolean().optional() })
  .refine((p) => Object.keys(p).length > 0, 'at least one field');
export type PresenceUpdatePayload = z.infer<typeof PresenceUpdatePayload>;

/** At most this many venues per watch call: a screen never shows more, and each costs a room. */
export const MAX_WATCH_VENUES = 200;
export const VenueWatchPayload = z.strictObject({ venueIds: z.array(Id).min(1).max(MAX_WATCH_VENUES) });
export type VenueWatchPayload = z.infer<typeof VenueWatchPayload>;

export const BBox = z
  .tuple([Longitude, Latitude, Longitude, Latitude])
  .refine(([, south, , north]) => south <= north, 'south must not exceed north');
export type BBox = z.infer<typeof BBox>;
export const MapWatchPayload = z.strictObject({ bbox: BBox });
export type MapWatchPayload = z.infer<typeof MapWatchPayload>;

export const StaffJoinPayload = z.strictObject({ venueId: Id });
export type StaffJoinPayload = z.infer<typeof StaffJoinPayload>;

/** A fresh access token for a socket whose token nears its expiry (from `POST /api/auth/refresh`). */
export const AuthRefreshPayload = z.strictObject({ token: z.string().min(1).max(4096) });
export type AuthRefreshPayload = z.infer<typeof AuthRefreshPayload>;
