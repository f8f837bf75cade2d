import type { VenuePeopleRelay } from '../../protocol/events';
import { WindowedCoalescer } from '../realtime/windowed-coalescer';

export interface PeopleCoalescerOptions {
  windowMs: number;
  /** Sends one venue's merged changes to its viewers on this node. */
  emit(venueId: string, changes: VenuePeopleRelay[]): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/**
 * At most one `venue:people` per venue per window, the same leading + trailing shape as counts: a batch
 * after a quiet window goes out at once; whatever follows inside the window is merged per person into one
 * trailing message. A batch (one presence-journal flush) is sent whole on the leading edge, so the first
 * of 500 arrivals does not go alone and leave 499 for later.
 */
export class PeopleCoalescer {
  private readonly inner: WindowedCoalescer<VenuePeopleRelay[], Map<string, VenuePeopleRelay>>;

  constructor(opts: PeopleCoalescerOptions) {
    this.inner = new WindowedCoalescer<VenuePeopleRelay[], Map<string, VenuePeopleRelay>>({
      ...opts,
      // Per user, only the newest state matters: an arrival followed by a ghost switch is just a removal.
      fold: (pending, changes) => {
        const merged = pending ?? new Map<string, VenuePeopleRelay>();
        for (const c of changes) {
          // Delete first so a person's entry moves to the end: the merged message keeps arrival order.
          merged.delete(c.userId);
          merged.set(c.userId, c);
        }
        return merged;
      },
      emit: (venueId, merged) => opts.emit(venueId, [...merged.values()]),
    });
  }

  /** Changes for one venue (callers group by venue). */
  offer(venueId: string, changes: VenuePeopleRelay[]): void {
    if (changes.length > 0) this.inner.offer(venueId, changes);
  }

  flush(): void {
    this.inner.flush();
  }

  prune(olderThanMs: number): void {
    this.inner.prune(olderThanMs);
  }

  close(): void {
    this.inner.close();
  }
}
