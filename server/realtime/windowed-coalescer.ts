export interface WindowedCoalescerOptions<In, Batch> {
  windowMs: number;
  /** Folds an arrival into what is pending for its key (undefined when nothing is). */
  fold(pending: Batch | undefined, incoming: In): Batch;
  emit(key: string, batch: Batch): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

interface KeyState<Batch> {
  lastSentAt: number;
  pending: Batch | undefined;
  timer: unknown;
}

/**
 * At most one emit per key per window, without making a quiet key slow: the first arrival after a
 * quiet window goes out at once (leading edge); what follows inside the window is folded into one
 * trailing emit. Venue counts and venue people lists both fan out through this.
 */
export class WindowedCoalescer<In, Batch> {
  private readonly keys = new Map<string, KeyState<Batch>>();
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly opts: WindowedCoalescerOptions<In, Batch>) {
    this.now = opts.now ?? Date.now;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
  }

  offer(key: string, incoming: In): void {
    let state = this.keys.get(key);
    if (!state) {
      state = { lastSentAt: -Infinity, pending: undefined, timer: null };
      this.keys.set(key, state);
    }
    state.pending = this.opts.fold(state.pending, incoming);
    const now = this.now();
    const sinceLast = now - state.lastSentAt;
    if (state.timer === null && sinceLast >= this.opts.windowMs) {
      this.send(key, state, now);
      return;
    }
    if (state.timer === null) {
      const s = state;
      state.timer = this.setTimer(() => this.flushKey(key, s), Math.max(0, this.opts.windowMs - sinceLast));
    }
  }

  /** Sends everything pending now (shutdown, tests). */
  flush(): void {
    for (const [key, state] of this.keys) this.flushKey(key, state);
  }

  /** Forgets keys quiet for long, so the map does not grow with every key ever seen. */
  prune(olderThanMs: number): void {
    const cutoff = this.now() - olderThanMs;
    for (const [key, s] of this.keys) {
      if (s.timer === null && s.pending === undefined && s.lastSentAt < cutoff) this.keys.delete(key);
    }
  }

  close(): void {
    this.flush();
    this.keys.clear();
  }

  private flushKey(key: string, state: KeyState<Batch>): void {
    if (state.timer !== null) this.clearTimer(state.timer);
    state.timer = null;
    if (state.pending !== undefined && this.keys.get(key) === state) this.send(key, state, this.now());
  }

  private send(key: string, state: KeyState<Batch>, now: number): void {
    const batch = state.pending as Batch;
    state.pending = undefined;
    state.lastSentAt = now;
    this.opts.emit(key, batch);
  }
}
