import type { VenueCount } from '../../protocol/events';

export interface CoalescerOptions {
  windowMs: number;
  /** Sends one venue's absolute count to everyone watching it (on this node). */
  emit(count: VenueCount): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

interface VenueState {
  lastSentAt: number;
  lastSentVersion: number;
  pending: VenueCount | null;
  timer: unknown;
}

/**
 * At most one `venue:count` per venue per window, without making a quiet venue slow: the first change
 * after a quiet window goes out at once (leading edge); the changes that follow inside the window are
 * merged into one trailing broadcast carrying the newest absolute count. Counts carry the store's
 * version, so an older change arriving late (from another node, say) is dropped here too.
 */
export class CountCoalescer {
  private readonly venues = new Map<string, VenueState>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly opts: CoalescerOptions) {
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  offer(change: VenueCount): void {
    let state = this.venues.get(change.venueId);
    if (!state) {
      state = { lastSentAt: -Infinity, lastSentVersion: -1, pending: null, timer: null };
      this.venues.set(change.venueId, state);
    }
    if (change.version <= state.lastSentVersion || (state.pending && change.version <= state.pending.version)) return;
    const now = this.now();
    const sinceLast = now - state.lastSentAt;
    if (state.timer === null && sinceLast >= this.opts.windowMs) {
      this.send(state, change, now);
      return;
    }
    state.pending = change;
    if (state.timer === null) {
      const s = state;
      state.timer = this.setTimer(() => this.flushVenue(change.venueId, s), Math.max(0, this.opts.windowMs - sinceLast));
    }
  }

  /** Sends everything pending now (shutdown, tests). */
  flush(): void {
    for (const [venueId, state] of this.venues) this.flushVenue(venueId, state);
  }

  /** Highest version already sent for a venue, so snapshots can skip stale data. */
  lastSent(venueId: string): number {
    return this.venues.get(venueId)?.lastSentVersion ?? -1;
  }

  /** Drops venues that have been quiet for long, so the map does not grow with every venue ever seen. */
  prune(olderThanMs: number): void {
    const cutoff = this.now() - olderThanMs;
    for (const [venueId, s] of this.venues) {
      if (s.timer === null && s.pending === null && s.lastSentAt < cutoff) this.venues.delete(venueId);
    }
  }

  close(): void {
    this.flush();
    this.venues.clear();
  }

  private flushVenue(venueId: string, state: VenueState): void {
    if (state.timer !== null) this.clearTimer(state.timer);
    state.timer = null;
    const pending = state.pending;
    state.pending = null;
    if (pending && pending.version > state.lastSentVersion && this.venues.get(venueId) === state) this.send(state, pending, this.now());
  }

  private send(state: VenueState, count: VenueCount, now: number): void {
    state.lastSentAt = now;
    state.lastSentVersion = count.version;
    this.opts.emit(count);
  }
}
