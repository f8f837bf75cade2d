import { Rooms, type VenueCount } from '../../protocol/events';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PresenceStore } from '../presence/presence-store';
import { CountTable, RecordingCountCoalescer } from '../venues/count-table';
import type { CountCoalescer } from './count-coalescer';
import { cellsOfPoint } from './map-cells';
import { NodeOutbox } from './node-outbox';
import type { TypedServer } from './typed-server';
import type { VenueCatalog } from './venue-catalog';

/**
 * How a count change reaches viewers on every node.
 *
 * The node that made a change tells the other nodes (through its outbox: one inter-server message
 * through the socket.io Redis adapter per window, whatever the number of changes in it, shared with the
 * people-list changes), and every node coalesces all changes per venue and emits to its own
 * viewers only (`io.local`). So a viewer gets at most one `venue:count` per venue per window however
 * many nodes change that venue, and each broadcast is encoded once per node, not once per viewer.
 * One emit targets the venue room and the venue's map-cell rooms together, so a socket in several of
 * them receives the message once.
 */
export class CountFanout {
  readonly coalescer: CountCoalescer;
  /** This node's one publish per window to the others, for counts and people-list changes alike. */
  readonly outbox: NodeOutbox;
  /** Every count offered below, kept for REST (see CountTable). */
  readonly table = new CountTable();
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly io: TypedServer,
    private readonly catalog: VenueCatalog,
    private readonly store: PresenceStore,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    windowMs: number,
    /** True with the Redis adapter; the in-memory adapter has no other node to tell. */
    clustered: boolean,
    /** Window of the inter-node publish (`FANOUT_PUBLISH_WINDOW_MS`). */
    publishWindowMs = 50,
  ) {
    this.coalescer = new RecordingCountCoalescer(this.table, { windowMs, emit: (c) => this.emitLocal(c) });
    this.outbox = new NodeOutbox({ io, windowMs: publishWindowMs, clustered, registry: metrics.registry });
  }

  /** Starts taking other nodes' counts; called once by the wiring, not as a side effect of construction. */
  listenToOtherNodes(): void {
    this.outbox.onCounts((changes) => this.accept(changes));
    // From nodes that predate the outbox (a rolling deploy).
    this.io.on('venue:counts', (changes: VenueCount[]) => this.accept(changes));
  }

  /** Changes made by this node: deliver here and on every other node. */
  publish(changes: VenueCount[]): void {
    if (changes.length === 0) return;
    this.metrics.countChanges.inc(changes.length);
    this.accept(changes);
    this.outbox.addCounts(changes);
  }

  /** Every count this node learns (its own changes, other nodes', resyncs) passes here on its way to viewers. */
  private accept(changes: VenueCount[]): void {
    for (const c of changes) this.coalescer.offer(c);
  }

  private emitLocal(count: VenueCount): void {
    const venue = this.catalog.peek(count.venueId);
    const rooms = [Rooms.venue(count.venueId), ...(venue ? cellsOfPoint(venue.lat, venue.lng).map(Rooms.mapCell) : [])];
    this.metrics.countBroadcasts.inc();
    this.io.local.to(rooms).emit('venue:count', count);
    if (!venue) {
      // A venue created on another node since our last catalog load: learn it for next time.
      void this.catalog.get(count.venueId).catch(() => undefined);
    }
  }

  /** Venues somebody on this node is watching, directly or through a map cell. */
  watchedVenueIds(): string[] {
    const rooms = this.io.of('/').adapter.rooms;
    const ids = new Set<string>();
    const venuePrefix = Rooms.venue('');
    const cellPrefix = Rooms.mapCell('');
    let anyCell = false;
    for (const room of rooms.keys()) {
      if (room.startsWith(venuePrefix)) ids.add(room.slice(venuePrefix.length));
      else if (room.startsWith(cellPrefix)) anyCell = true;
    }
    if (anyCell) {
      for (const v of this.catalog.all()) {
        if (cellsOfPoint(v.lat, v.lng).some((c) => rooms.has(Rooms.mapCell(c)))) ids.add(v.id);
      }
    }
    return [...ids];
  }

  /**
   * Reads the current counts of everything watched here and sends whatever is newer than what viewers
   * last got. Run after an outage of the inter-node link (changes made elsewhere were missed) and on a
   * slow timer as a safety net: a change whose broadcast was lost (a node died between its write and
   * its publish, a counter read that failed after a committed write) still reaches viewers within one
   * interval.
   */
  async resync(reason: 'redis-recovered' | 'periodic', extraVenueIds: string[] = []): Promise<number> {
    const ids = [...new Set([...this.watchedVenueIds(), ...extraVenueIds])];
    if (ids.length === 0) return 0;
    const counts = await this.store.getCounts(ids);
    const fresh: VenueCount[] = [];
    for (const [venueId, c] of counts)
      if (c.version > this.coalescer.lastSent(venueId)) fresh.push({ venueId, count: c.count, version: c.version });
    this.accept(fresh);
    const sent = fresh.length;
    if (sent > 0) this.metrics.countResyncRepairs.inc({ reason }, sent);
    if (reason === 'redis-recovered' || sent > 0)
      this.logger.info({ reason, venues: ids.length, refreshed: sent }, 'venue counts resynced');
    return sent;
  }

  startPeriodicResync(intervalMs: number): void {
    this.resyncTimer = setInterval(() => {
      this.resync('periodic', this.table.resyncIds()).catch((err: unknown) => this.logger.warn({ err }, 'periodic count resync failed'));
    }, intervalMs);
    this.resyncTimer.unref();
  }

  close(): void {
    clearInterval(this.resyncTimer);
    this.outbox.close();
    this.coalescer.close();
  }
}
