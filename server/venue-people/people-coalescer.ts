import type { VenuePeopleRelay } from '../../protocol/events';

export interface PeopleCoalescerOptions {
  windowMs: number;
  /** Sends one venue's merged changes to its viewers on this node. */
  emit(venueId: string, changes: VenuePeopleRelay[]): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

interface VenueState {
  lastSentAt: number;
  /** Per user, only the newest state matters: an arrival followed by a ghost switch is just a removal. */
  pending: Map<string, VenuePeopleRelay>;
  timer: unknown;
}

/**
 * At most one `venue:people` per venue per window, the same leading + trailing shape as counts: a batch
 * after a quiet window goes out at once; whatever follows inside the window is merged per person into one
 * trailing message. A batch (one presence-journal flush) is sent whole on the leading edge, so the first
 * of 500 arrivals does not go alone and leave 499 for later.
 */
export class PeopleCoalescer {
  private readonly venues = new Map<string, VenueState>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly opts: PeopleCoalescerOptions) {
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  /** Changes for one venue (callers group by venue). */
  offer(venueId: string, changes: VenuePeopleRelay[]): void {
    if (changes.length === 0) return;
    let state = this.venues.get(venueId);
    if (!state) {
      state = { lastSentAt: -Infinity, pending: new Map(), timer: null };
      this.venues.set(venueId, state);
    }
    for (const c of changes) {
      // Delete first so a person's entry moves to the end: the merged message keeps arrival order.
      state.pending.delete(c.userId);
      state.pending.set(c.userId, c);
    }
    const now = this.now();
    const sinceLast = now - state.lastSentAt;
    if (state.timer === null && sinceLast >= this.opts.windowMs) {
      this.send(venueId, state, now);
      return;
    }
    if (state.timer === null) {
      const s = state;
      state.timer = this.setTimer(() => this.flushVenue(venueId, s), Math.max(0, this.opts.windowMs - sinceLast));
    }
  }

  flush(): void {
    for (const [venueId, state] of this.venues) this.flushVenue(venueId, state);
  }

  /** Forgets venues quiet for long, so the map does not grow with every venue ever seen. */
  prune(olderThanMs: number): void {
    const cutoff = this.now() - olderThanMs;
    for (const [venueId, s] of this.venues) {
      if (s.timer === null && s.pending.size === 0 && s.lastSentAt < cutoff) this.venues.delete(venueId);
    }
  }

  close(): void {
    this.flush();
    this.venues.clear();
  }

  private flushVenue(venueId: string, state: VenueState): void {
    if (state.timer !== null) this.clearTimer(state.timer);
    state.timer = null;
    if (state.pending.size > 0 && this.venues.get(venueId) === state) this.send(venueId, state, this.now());
  }

  private send(venueId: string, state: VenueState, now: number): void {
    const changes = [...state.pending.values()];
    state.pending = new Map();
    state.lastSentAt = now;
    this.opts.emit(venueId, changes);
  }
}
