import { Rooms } from '../../protocol/events';
import type { PresenceEvent } from '../presence/presence-journal';
import type { PrismaClient } from '../storage/prisma-types';
import type { TypedServer } from './typed-server';

/** Bounds the IN lists of one query; a closing-time batch can hold thousands of users. */
const USERS_PER_QUERY = 500;

/**
 * Accepted friends of each user, minus anyone in a block with them either way: two queries for a
 * whole batch of users, not two per user.
 */
export async function friendsOfMany(prisma: PrismaClient, userIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < userIds.length; i += USERS_PER_QUERY) {
    const ids = userIds.slice(i, i + USERS_PER_QUERY);
    const [friendships, blocks] = await Promise.all([
      prisma.friendship.findMany({
        where: { status: 'ACCEPTED', OR: [{ requesterId: { in: ids } }, { addresseeId: { in: ids } }] },
        select: { requesterId: true, addresseeId: true },
      }),
      prisma.block.findMany({
        where: { OR: [{ blockerId: { in: ids } }, { blockedId: { in: ids } }] },
        select: { blockerId: true, blockedId: true },
      }),
    ]);
    const asked = new Set(ids);
    const blocked = new Set(blocks.flatMap((b) => [`${b.blockerId} ${b.blockedId}`, `${b.blockedId} ${b.blockerId}`]));
    for (const f of friendships) {
      for (const [me, other] of [
        [f.requesterId, f.addresseeId],
        [f.addresseeId, f.requesterId],
      ] as const) {
        if (!asked.has(me) || blocked.has(`${me} ${other}`)) continue;
        out.set(me, [...(out.get(me) ?? []), other]);
      }
    }
  }
  return out;
}

/**
 * Tells each user's friends where they are now. Ghost mode (`visible: false`) reads as "not out" to
 * friends too: only people at the same venue learn a ghost is there, and only by being there.
 */
export function friendPresenceNotifier(io: TypedServer, prisma: PrismaClient) {
  return async (events: PresenceEvent[]): Promise<void> => {
    const friends = await friendsOfMany(prisma, events.map((e) => e.userId));
    for (const { userId, presence } of events) {
      const theirs = friends.get(userId);
      if (!theirs || theirs.length === 0) continue;
      const venueId = presence && presence.visible ? presence.venueId : null;
      io.to(theirs.map(Rooms.user)).emit('friend:presence', { userId, venueId });
    }
  };
}
