import type { PresenceRecord } from './presence-store';

/** What the store last wrote or read for one user: the pointer's rev and the stay, expired or not. */
export interface UserState {
  /** The pointer's rev, or undefined when the user has no pointer item yet. */
  rev: number | undefined;
  /** The user's stay, expired or not. */
  item: PresenceRecord | undefined;
}

/**
 * The last known state of the users this node served, bounded (least recently used go first). It is
 * only ever a guess: every write built from it is conditioned on exactly what it says (pointer rev,
 * the stay's expiry), so a copy made stale by another node fails the condition and the store reads.
 */
export class UserStateCache {
  private readonly states = new Map<string, UserState>();

  constructor(private readonly max = 100_000) {}

  get(userId: string): UserState | undefined {
    const s = this.states.get(userId);
    if (s) {
      // Map iteration order is insertion order: re-inserting makes it the most recently used.
      this.states.delete(userId);
      this.states.set(userId, s);
    }
    return s;
  }

  set(userId: string, state: UserState): void {
    this.states.delete(userId);
    this.states.set(userId, state);
    if (this.states.size > this.max) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
  }

  /** The stay changed without the pointer (a leave, a sweep): keep the rev, replace the stay. */
  setItem(userId: string, item: PresenceRecord | undefined): void {
    const s = this.states.get(userId);
    if (s) this.set(userId, { rev: s.rev, item });
  }

  delete(userId: string): void {
    this.states.delete(userId);
  }

  clear(): void {
    this.states.clear();
  }

  get size(): number {
    return this.states.size;
  }
}
