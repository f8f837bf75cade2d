import type { PublicUser } from '../../protocol/http/common';
import type { TypedServer } from '../realtime/typed-server';

export interface FriendCacheOptions {
  load(userId: string): Promise<PublicUser[]>;
  now(): number;
  /** Safety net for an invalidation lost on the way to another node, and for renamed friends. */
  ttlMs: number;
  maxEntries?: number;
}

/**
 * Each caller's accepted friends (blocks already taken out), kept per node so a venue answer asks
 * PostgreSQL nothing about them. Friendship and block changes invalidate both users on every node
 * (`friendsChanged`); the TTL bounds what a lost invalidation can leave behind.
 *
 * A load that was running while its user was invalidated is answered to whoever waited for it but not
 * kept: it may have read the rows from before the change.
 */
export class FriendCache {
  private readonly entries = new Map<string, { friends: PublicUser[]; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<PublicUser[]>>();
  /** Bumped by every invalidation of a user; a load keeps its result only if it did not move. */
  private readonly epochs = new Map<string, number>();
  private readonly maxEntries: number;
  loads = 0;

  constructor(private readonly o: FriendCacheOptions) {
    this.maxEntries = o.maxEntries ?? 100_000;
  }

  friendsOf(userId: string): Promise<PublicUser[]> {
    const e = this.entries.get(userId);
    if (e && e.expiresAt > this.o.now()) return Promise.resolve(e.friends);
    const running = this.loading.get(userId);
    if (running) return running;
    const epoch = this.epochs.get(userId) ?? 0;
    this.loads++;
    const load = this.o.load(userId).then(
      (friends) => {
        if (this.loading.get(userId) === load) this.loading.delete(userId);
        if ((this.epochs.get(userId) ?? 0) === epoch) this.keep(userId, friends);
        return friends;
      },
      (err: unknown) => {
        if (this.loading.get(userId) === load) this.loading.delete(userId);
        throw err;
      },
    );
    this.loading.set(userId, load);
    return load;
  }

  invalidate(userIds: string[]): void {
    for (const id of userIds) {
      this.entries.delete(id);
      this.loading.delete(id);
      this.epochs.set(id, (this.epochs.get(id) ?? 0) + 1);
    }
  }

  clear(): void {
    this.invalidate([...this.entries.keys(), ...this.loading.keys()]);
  }

  private keep(userId: string, friends: PublicUser[]): void {
    this.entries.delete(userId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
        this.epochs.delete(oldest.value);
      }
    }
    this.entries.set(userId, { friends, expiresAt: this.o.now() + this.o.ttlMs });
  }
}

/** A plain read of the cache the composition root built (build-friend-cache.ts). */
export const friendCache = (ctx: { friendCache: FriendCache }): FriendCache => ctx.friendCache;

/**
 * A friendship or block between these users changed (the rows are written): every node forgets their
 * cached friends. Call after the change is committed, never before: a node reloading in between would
 * read the old rows and keep them.
 */
export function friendsChanged(
  ctx: { friendCache: FriendCache; redis: unknown; io: Pick<TypedServer, 'serverSideEmit'> },
  userIds: string[],
): void {
  ctx.friendCache.invalidate(userIds);
  if (ctx.redis) ctx.io.serverSideEmit('friends:changed', userIds);
}
