import { Rooms } from '../../protocol/events';
import type { FlushScope, PresenceEvent } from '../presence/presence-journal';
import type { PrismaClient } from '../storage/prisma-types';
import { flushRelations } from '../venue-people/relations';
import type { TypedServer } from './typed-server';

/**
 * Tells each user's friends where they are now. Ghost mode (`visible: false`) reads as "not out" to
 * friends too: only people at the same venue learn a ghost is there, and only by being there. The
 * friendships come from the flush's one relations read, shared with the venue people list.
 */
export function friendPresenceNotifier(io: TypedServer, prisma: PrismaClient) {
  return async (events: PresenceEvent[], scope: FlushScope): Promise<void> => {
    const relations = await flushRelations(prisma, events, scope);
    for (const { userId, presence } of events) {
      const theirs = relations.friendsOf(userId);
      if (theirs.length === 0) continue;
      const venueId = presence && presence.visible ? presence.venueId : null;
      io.to(theirs.map(Rooms.user)).emit('friend:presence', { userId, venueId });
    }
  };
}
