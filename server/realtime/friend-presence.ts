import { Rooms } from '../../protocol/events';
import type { PresenceEvent } from '../presence/presence-journal';
import type { PrismaClient } from '../storage/prisma-types';
import type { TypedServer } from './typed-server';

/** Accepted friends of `userId`, minus anyone in a block with them either way. */
export async function friendIdsOf(prisma: PrismaClient, userId: string): Promise<string[]> {
  const [friendships, blocks] = await Promise.all([
    prisma.friendship.findMany({
      where: { status: 'ACCEPTED', OR: [{ requesterId: userId }, { addresseeId: userId }] },
      select: { requesterId: true, addresseeId: true },
    }),
    prisma.block.findMany({
      where: { OR: [{ blockerId: userId }, { blockedId: userId }] },
      select: { blockerId: true, blockedId: true },
    }),
  ]);
  const blocked = new Set(blocks.map((b) => (b.blockerId === userId ? b.blockedId : b.blockerId)));
  return friendships.map((f) => (f.requesterId === userId ? f.addresseeId : f.requesterId)).filter((id) => !blocked.has(id));
}

/**
 * Tells each user's friends where they are now. Ghost mode (`visible: false`) reads as "not out" to
 * friends too: only people at the same venue learn a ghost is there, and only by being there.
 */
export function friendPresenceNotifier(io: TypedServer, prisma: PrismaClient) {
  return async (events: PresenceEvent[]): Promise<void> => {
    for (const { userId, presence } of events) {
      const friends = await friendIdsOf(prisma, userId);
      if (friends.length === 0) continue;
      const venueId = presence && presence.visible ? presence.venueId : null;
      io.to(friends.map(Rooms.user)).emit('friend:presence', { userId, venueId });
    }
  };
}
