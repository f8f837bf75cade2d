import { ErrorCode } from '../../protocol/errors';
import type { PersonAtVenue } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { PresenceRecord } from '../presence/presence-store';
import { byListOrder } from './people-pages';
import { profilesOf, relationsBetween } from './relations';

type Ctx = Pick<AppContext, 'db' | 'presence' | 'now'>;

/**
 * Only someone checked in at the venue may see who else is there: the list tells where people are, and
 * that is shared with those in the same room, not with staff behind the bar (unless they checked in as
 * a guest) or anyone elsewhere.
 */
export async function assertCheckedInAt(ctx: Ctx, callerId: string, venueId: string): Promise<void> {
  const now = ctx.now();
  const mine = await ctx.presence.get(callerId, now);
  if (mine?.venueId === venueId) return;
  const [venue, staff] = await Promise.all([
    ctx.db.prisma.venue.findUnique({ where: { id: venueId }, select: { id: true } }),
    ctx.db.prisma.venueStaff.findUnique({ where: { venueId_userId: { venueId, userId: callerId } }, select: { id: true } }),
  ]);
  if (!venue) throw new AppError(ErrorCode.NOT_FOUND, 'No such venue');
  if (staff) throw new AppError(ErrorCode.FORBIDDEN, 'The people list is for guests: check in as a guest to see it');
  throw new AppError(ErrorCode.NOT_CHECKED_IN, 'Check in at this venue to see who is here');
}

/** Who a list shows: visible, unexpired, never the viewer. */
export function listable(p: PresenceRecord, now: number, viewerId: string): boolean {
  return p.visible && p.expiresAt > now && p.userId !== viewerId;
}

/**
 * The people list of a venue for one caller, read from the presence store's venue index (DynamoDB's GSI
 * in cluster mode), with profiles, friendship and blocks from PostgreSQL for exactly the people there.
 */
export async function listPeopleAt(ctx: Ctx, callerId: string, venueId: string, wants?: 'receive' | 'buy'): Promise<VenuePeopleResponse> {
  await assertCheckedInAt(ctx, callerId, venueId);
  const now = ctx.now();
  const here = (await ctx.presence.listVenue(venueId, now)).filter(
    (p) => listable(p, now, callerId) && (wants === undefined || (wants === 'receive' ? p.wantsToReceive : p.wantsToBuy)),
  );
  const ids = here.map((p) => p.userId);
  const [relations, profiles] = await Promise.all([relationsBetween(ctx.db.prisma, [callerId], ids), profilesOf(ctx.db.prisma, ids)]);
  const people: PersonAtVenue[] = [];
  for (const p of here) {
    const profile = profiles.get(p.userId);
    // A presence without a user row is an account deleted mid-stay: nothing to show.
    if (!profile || relations.isBlocked(callerId, p.userId)) continue;
    people.push({
      userId: p.userId,
      displayName: profile.displayName,
      profileImageUrl: profile.profileImageUrl,
      wantsToBuy: p.wantsToBuy,
      wantsToReceive: p.wantsToReceive,
      isFriend: relations.isFriend(callerId, p.userId),
    });
  }
  people.sort(byListOrder);
  return { venueId, people };
}
