import type { VenueCount } from '../../protocol/events';
import type { PresenceStore } from '../presence/presence-store';
import { CountCoalescer, type CoalescerOptions } from '../realtime/count-coalescer';

type Count = Omit<VenueCount, 'venueId'>;

/**
 * The latest count and version of every venue this node has heard of, kept in memory so REST answers
 * read no store.
 *
 * It is fed by everything the count fan-out offers its coalescer (this node's own changes, the other
 * nodes' changes, the periodic resync) and by the snapshots sent after a watch, always before any of
 * it is sent to a socket. Versions only go up here. So whatever a socket viewer on this node was sent,
 * the table already held that version or a newer one: a REST count is never older than a viewer's.
 *
 * A venue it has not heard of is read from the store and asked for in the next resync, which puts it
 * in the table. From then on the resync re-reads it each interval for as long as REST keeps asking
 * (`TRUSTED_FOR_MS` after the last ask), so a change whose broadcast was lost is served within one
 * `COUNT_RESYNC_INTERVAL_MS`; a venue nobody asked about for longer than that is read from the store
 * again before it is trusted.
 */
export class CountTable {
  private readonly counts = new Map<string, Count>();
  /** Per venue served by REST, when it was last asked for. */
  private readonly askedAt = new Map<string, number>();
  private readonly storeReads = { venues: 0, calls: 0 };

  constructor(
    private readonly now: () => number = Date.now,
    /** How long after its last REST read a venue stays on the resync list (and trusted). */
    private readonly trustedForMs = 10 * 60_000,
  ) {}

  /** Keeps the higher version; equal versions are the same state. */
  record(c: VenueCount): void {
    const known = this.counts.get(c.venueId);
    if (known && known.version >= c.version) return;
    this.counts.set(c.venueId, { count: c.count, version: c.version });
  }

  peek(venueId: string): Count | undefined {
    return this.counts.get(venueId);
  }

  /** Venues REST read recently: the periodic resync re-reads these beside the watched ones. */
  resyncIds(): string[] {
    const horizon = this.now() - this.trustedForMs;
    const out: string[] = [];
    for (const [id, at] of this.askedAt) {
      if (at >= horizon) out.push(id);
      else this.askedAt.delete(id);
    }
    return out;
  }

  /**
   * Counts for REST: from memory for every venue heard of and still on the resync list, the rest in
   * one store read. A venue first seen here is not recorded from that read: only the stream or the
   * resync make a venue heard of, so until the resync covers it the store answers for it.
   */
  async read(venueIds: string[], store: Pick<PresenceStore, 'getCounts'>): Promise<Map<string, Count>> {
    const now = this.now();
    const horizon = now - this.trustedForMs;
    const out = new Map<string, Count>();
    const missing: string[] = [];
    for (const id of venueIds) {
      const c = this.counts.get(id);
      const asked = this.askedAt.get(id);
      if (c && asked !== undefined && asked >= horizon) out.set(id, c);
      else missing.push(id);
      this.askedAt.set(id, now);
    }
    if (missing.length > 0) {
      this.storeReads.calls++;
      this.storeReads.venues += missing.length;
      const read = await store.getCounts(missing);
      for (const id of missing) {
        const fromStore = read.get(id) ?? { count: 0, version: 0 };
        const heard = this.counts.get(id);
        if (!heard) {
          out.set(id, fromStore);
          continue;
        }
        // A venue heard of but not asked about lately: the read may repair a lost message, and a later
        // answer from memory must not go back behind it. Whatever arrived while the read ran may be newer.
        this.record({ venueId: id, ...fromStore });
        out.set(id, this.counts.get(id)!);
      }
    }
    return out;
  }

  /** Store reads REST needed so far (the benchmark prints them per request). */
  reads(): { venues: number; calls: number } {
    return { ...this.storeReads };
  }

  size(): number {
    return this.counts.size;
  }
}

/** The fan-out's coalescer, recording every count it is offered in the table before anything is sent. */
export class RecordingCountCoalescer extends CountCoalescer {
  constructor(
    readonly table: CountTable,
    opts: CoalescerOptions,
  ) {
    super(opts);
  }

  override offer(change: VenueCount): void {
    this.table.record(change);
    super.offer(change);
  }
}
