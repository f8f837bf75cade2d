import { z } from 'zod';
import { Id } from '../schemas';
import { numberParam } from './common';

export const MAX_PEOPLE_PER_PAGE = 50;

/**
 * Optional narrowing of the people list: `receive` = open to a treat, `buy` = buying. With `limit` or
 * `cursor` the list comes in pages (at most 50 people each, friends first, then by name): pass the
 * previous page's `nextCursor` to continue. Without either the whole list comes at once (the answer
 * older clients read).
 */
export const VenuePeopleQuery = z.strictObject({
  wants: z.enum(['receive', 'buy']).optional(),
  limit: numberParam(z.number().int().min(1).max(MAX_PEOPLE_PER_PAGE)).optional(),
  /** Opaque: the `nextCursor` of the page before. */
  cursor: z.string().min(1).max(1_024).optional(),
});
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
export const VenuePeopleResponse = z.object({
  venueId: z.string(),
  people: z.array(PersonAtVenueView),
  /**
   * Paged reads only: the cursor of the next page, null on the last. A cursor marks a place in the
   * order, not an offset, so people arriving or leaving between pages never make a page repeat or skip
   * someone who stayed; those arrivals and departures reach the phone as `venue:people` messages.
   */
  nextCursor: z.string().nullable().optional(),
});
export type VenuePeopleResponse = z.infer<typeof VenuePeopleResponse>;

export const MAX_REPORT_REASON = 1_000;
export const ReportBody = z.strictObject({
  reason: z.string().trim().min(1).max(MAX_REPORT_REASON),
  /** Where it happened, if at a venue: helps whoever reviews reports. */
  venueId: Id.optional(),
});
export type ReportBody = z.infer<typeof ReportBody>;
