import type { VenueCount } from '../../protocol/events';
import { WindowedCoalescer } from './windowed-coalescer';

export interface CoalescerOptions {
  windowMs: number;
  /** Sends one venue's absolute count to everyone watching it (on this node). */
  emit(count: VenueCount): void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/**
 * At most one `venue:count` per venue per window (leading + trailing edge, see WindowedCoalescer); the
 * trailing broadcast carries the newest absolute count. Counts carry the store's version, so an older
 * change arriving late (from another node, say) is dropped here too.
 */
export class CountCoalescer {
  private readonly sentVersion = new Map<string, number>();
  private readonly inner: WindowedCoalescer<VenueCount, VenueCount>;

  constructor(opts: CoalescerOptions) {
    this.inner = new WindowedCoalescer<VenueCount, VenueCount>({
      ...opts,
      fold: (pending, c) => (pending && pending.version >= c.version ? pending : c),
      emit: (venueId, c) => {
        this.sentVersion.set(venueId, c.version);
        opts.emit(c);
      },
    });
  }

  offer(change: VenueCount): void {
    if (change.version <= this.lastSent(change.venueId)) return;
    this.inner.offer(change.venueId, change);
  }

  /** Highest version already sent for a venue, so snapshots can skip stale data. */
  lastSent(venueId: string): number {
    return this.sentVersion.get(venueId) ?? -1;
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
