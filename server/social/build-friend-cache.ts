import type { RedisConnections } from '../context';
import type { TypedServer } from '../realtime/typed-server';
import type { Database } from '../storage/database';
import { FriendCache } from './friend-cache';
import { listFriends } from './friends';

/**
 * The node's friend cache, built once by the composition root, which is also where its listeners are
 * registered: other nodes' invalidations, and a full clear after this node's Redis link comes back
 * (invalidations sent while it was down never arrive).
 */
export function buildFriendCache(d: {
  /** FRIENDS_CACHE_SECONDS: how long a list is trusted without an invalidation. */
  ttlMs: number;
  db: Database;
  io: TypedServer;
  redis: RedisConnections | undefined;
  now: () => number;
}): FriendCache {
  const cache = new FriendCache({
    load: async (userId) =>
      (await listFriends(d.db.prisma, userId)).map((f) => ({ id: f.id, displayName: f.displayName, profileImageUrl: f.profileImageUrl })),
    now: d.now,
    ttlMs: d.ttlMs,
  });
  d.io.on('friends:changed', (userIds: string[]) => cache.invalidate(userIds));
  if (d.redis) {
    let wasDown = false;
    d.redis.sub.on('close', () => (wasDown = true));
    d.redis.sub.on('ready', () => {
      if (wasDown) cache.clear();
      wasDown = false;
    });
  }
  return cache;
}
