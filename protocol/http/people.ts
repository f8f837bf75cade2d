import { z } from 'zod';
import { Id } from '../schemas';

/** Optional narrowing of the people list: `receive` = open to a treat, `buy` = buying. */
export const VenuePeopleQuery = z.strictObject({ wants: z.enum(['receive', 'buy']).optional() });
export type VenuePeopleQuery = z.infer<typeof VenuePeopleQuery>;

export const PersonAtVenueView = z.object({
  userId: z.string(),
  displayName: z.string(),
  profileImageUrl: z.string().nullable(),
  wantsToBuy: z.boolean(),
  wantsToReceive: z.boolean(),
  /** True when this person is the caller's accepted friend. */
  isFriend: z.boolean(),
});

/** Friends first, then by display name. Never the caller, hidden people, expired stays or anyone in a block with the caller. */
export const VenuePeopleResponse = z.object({ venueId: z.string(), people: z.array(PersonAtVenueView) });
export type VenuePeopleResponse = z.infer<typeof VenuePeopleResponse>;

export const MAX_REPORT_REASON = 1_000;
export const ReportBody = z.strictObject({
  reason: z.string().trim().min(1).max(MAX_REPORT_REASON),
  /** Where it happened, if at a venue: helps whoever reviews reports. */
  venueId: Id.optional(),
});
export type ReportBody = z.infer<typeof ReportBody>;
