import { Rooms, type PersonAtVenue, type VenuePeopleChange, type VenuePeopleRelay } from '../../protocol/events';
import type { Logger } from '../observability/logger';
import type { FlushScope, PresenceEvent } from '../presence/presence-journal';
import type { PresenceRecord, PresenceStore } from '../presence/presence-store';
import type { NodeOutbox } from '../realtime/node-outbox';
import type { TypedServer, TypedSocket } from '../realtime/typed-server';
import type { PrismaClient } from '../storage/prisma-types';
import { PeopleCoalescer } from './people-coalescer';
import { flushRelations, profilesOf, relationsBetween, type PublicProfile, type Relations } from './relations';

type Flags = Pick<PresenceRecord, 'wantsToBuy' | 'wantsToReceive'>;

export interface PeopleFanoutDeps {
  io: TypedServer;
  prisma: PrismaClient;
  store: PresenceStore;
  logger: Logger;
  now(): number;
  windowMs: number;
  /** This node's one publish per window to the others, shared with counts (count-fanout.ts). */
  outbox: NodeOutbox;
  /** How often each node re-reads the venues its viewers are at: expiry ends stays without any event. */
  resyncMs: number;
  /** Least time between two emit ticks (each one relations statement); default min(100, windowMs / 2). */
  tickMs?: number;
}

function personOf(p: Flags & { userId: string }, profile: PublicProfile): Omit<PersonAtVenue, 'isFriend'> {
  return {
    userId: p.userId,
    displayName: profile.displayName,
    profileImageUrl: profile.profileImageUrl,
    wantsToBuy: p.wantsToBuy,
    wantsToReceive: p.wantsToReceive,
  };
}

/**
 * How people-list changes reach the people at a venue, on every node.
 *
 * The node where a presence changed turns the journal's batch into relays (who is now on or off which
 * venue's list) and sends them to every node; each node coalesces per venue and emits to its own
 * viewers only, so a phone gets at most one `venue:people` per venue per window however many nodes
 * changed it. Whether a person is a friend, and whether a block hides them, depends on who receives the
 * message: the venues whose windows closed in one tick ask PostgreSQL together, in one statement, about
 * exactly the pairs (viewer here, person changed), then each sends one shared message to its room and
 * tailored ones only to the few sockets that differ.
 *
 * Expiry ends a stay with no event (the sweeper knows counts, not users), and a relay can be lost while
 * Redis is down: every `resyncMs` each node re-reads the venues its viewers are at and offers what
 * changed, so the live list converges on the store within one interval.
 */
export class VenuePeopleFanout {
  readonly coalescer: PeopleCoalescer;
  /** Per venue with viewers on this node: who its list shows now, as last offered here. */
  private readonly known = new Map<string, Map<string, Flags>>();
  /** Per venue, the differences between `known` and the store that the last resync saw. */
  private readonly differences = new Map<string, Map<string, string>>();
  /** Emits waiting for the next tick's relations read. */
  private tickBatch: { venueId: string; changes: VenuePeopleRelay[] }[] = [];
  /** The ticks run one after another: each awaits a query, and a later emit of a venue must not overtake. */
  private ticks: Promise<void> = Promise.resolve();
  /** When the last tick's relations read started (performance.now()). */
  private lastTick = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> | null = null;

  /** Least time between two ticks' relations reads (half the window, at most 100 ms; 0 when the window is 0). */
  private readonly tickMs: number;

  constructor(private readonly d: PeopleFanoutDeps) {
    this.tickMs = d.tickMs ?? Math.min(100, d.windowMs / 2);
    this.coalescer = new PeopleCoalescer({ windowMs: d.windowMs, emit: (venueId, changes) => this.enqueueEmit(venueId, changes) });
  }

  /** Starts taking other nodes' people relays; called once by the wiring, not as a side effect of construction. */
  listenToOtherNodes(): void {
    this.d.outbox.onPeople((relays) => this.offerLocal(relays));
    // From nodes that predate the outbox (a rolling deploy).
    this.d.io.on('venue:people-changes', (relays: VenuePeopleRelay[]) => this.offerLocal(relays));
  }

  /** The presence journal's listener: runs on the node where the changes were made, after PostgreSQL has them. */
  readonly onPresence = async (events: PresenceEvent[], scope: FlushScope): Promise<void> => {
    const { profiles } = events.some((e) => e.presence?.visible)
      ? await flushRelations(this.d.prisma, events, scope)
      : { profiles: new Map<string, PublicProfile>() };
    const relays: VenuePeopleRelay[] = [];
    for (const { userId, presence, previousVenueId } of events) {
      if (previousVenueId) relays.push({ venueId: previousVenueId, userId, person: null });
      if (!presence) continue;
      const profile = profiles.get(userId);
      relays.push({ venueId: presence.venueId, userId, person: presence.visible && profile ? personOf(presence, profile) : null });
    }
    this.publish(relays);
  };

  publish(relays: VenuePeopleRelay[]): void {
    if (relays.length === 0) return;
    this.offerLocal(relays);
    this.d.outbox.addPeople(relays);
  }

  private offerLocal(relays: VenuePeopleRelay[]): void {
    const byVenue = new Map<string, VenuePeopleRelay[]>();
    for (const r of relays) {
      const known = this.known.get(r.venueId);
      if (known) {
        if (r.person) known.set(r.userId, { wantsToBuy: r.person.wantsToBuy, wantsToReceive: r.person.wantsToReceive });
        else known.delete(r.userId);
      }
      // Nobody here is at that venue: a viewer who checks in later reads the list, which already has it.
      if (!this.hasLocalViewers(r.venueId)) continue;
      let list = byVenue.get(r.venueId);
      if (!list) byVenue.set(r.venueId, (list = []));
      list.push(r);
    }
    for (const [venueId, list] of byVenue) this.coalescer.offer(venueId, list);
  }

  private hasLocalViewers(venueId: string): boolean {
    return (this.d.io.of('/').adapter.rooms.get(Rooms.venuePeople(venueId))?.size ?? 0) > 0;
  }

  private localViewers(venueId: string): { socket: TypedSocket; userId: string }[] {
    const ids = this.d.io.of('/').adapter.rooms.get(Rooms.venuePeople(venueId));
    const out: { socket: TypedSocket; userId: string }[] = [];
    if (!ids) return out;
    const sockets = this.d.io.of('/').sockets;
    for (const id of ids) {
      const socket = sockets.get(id);
      const userId = socket?.data.userId;
      if (socket && userId) out.push({ socket, userId });
    }
    return out;
  }

  private enqueueEmit(venueId: string, changes: VenuePeopleRelay[]): void {
    this.tickBatch.push({ venueId, changes });
    if (this.tickBatch.length > 1) return;
    // The first emit of a tick schedules the read; every venue whose window closes before it runs joins it.
    // Ticks are at least `tickMs` apart: each venue's window closes at its own moment, so during a rush
    // an unpaced tick per window would cost one relations statement per venue per window; after a quiet
    // spell the tick runs at once, so a lone change is not delayed.
    this.ticks = this.ticks
      .then(() => {
        const wait = this.lastTick + this.tickMs - performance.now();
        return new Promise<void>((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
      })
      .then(() => {
        this.lastTick = performance.now();
        const batch = this.tickBatch;
        this.tickBatch = [];
        return this.emitTick(batch);
      })
      .catch((err: unknown) => this.d.logger.warn({ err }, 'venue people emit failed; the next resync repairs it'));
  }

  private async emitTick(batch: { venueId: string; changes: VenuePeopleRelay[] }[]): Promise<void> {
    const work = batch.map((b) => ({ ...b, viewers: this.localViewers(b.venueId) })).filter((b) => b.viewers.length > 0);
    if (work.length === 0) return;
    const viewerIds = new Set<string>();
    const subjectIds = new Set<string>();
    for (const w of work) {
      for (const v of w.viewers) viewerIds.add(v.userId);
      for (const c of w.changes) subjectIds.add(c.userId);
    }
    const relations = await relationsBetween(this.d.prisma, [...viewerIds], [...subjectIds]);
    for (const w of work) this.emitLocal(w.venueId, w.changes, w.viewers, relations);
  }

  private emitLocal(
    venueId: string,
    changes: VenuePeopleRelay[],
    viewers: { socket: TypedSocket; userId: string }[],
    relations: Relations,
  ): void {
    const changed = new Set(changes.map((c) => c.userId));
    const wire = (c: VenuePeopleRelay, viewerId: string | null): VenuePeopleChange =>
      c.person
        ? { type: 'upsert', person: { ...c.person, isFriend: viewerId !== null && relations.isFriend(viewerId, c.userId) } }
        : { type: 'remove', userId: c.userId };

    // Only the sockets asked about get this message: one that left the venue while the query ran is not
    // told any more, and one that arrived meanwhile read the list when it checked in.
    const shared: string[] = [];
    const tailored: { socket: TypedSocket; userId: string }[] = [];
    for (const v of viewers) {
      if (!v.socket.rooms.has(Rooms.venuePeople(venueId))) continue;
      if (changed.has(v.userId) || relations.hasAnyIn(v.userId, changed)) tailored.push(v);
      else shared.push(v.socket.id);
    }
    // Socket ids are rooms too: one emit encodes the shared message once for all of them.
    if (shared.length > 0) this.d.io.local.to(shared).emit('venue:people', { venueId, changes: changes.map((c) => wire(c, null)) });
    for (const { socket, userId } of tailored) {
      const mine = changes.filter((c) => c.userId !== userId && !relations.isBlocked(userId, c.userId)).map((c) => wire(c, userId));
      if (mine.length > 0) socket.emit('venue:people', { venueId, changes: mine });
    }
  }

  /**
   * A block or unblock between two people at the same venue shows at once, outside the coalescing
   * window (it is rare and personal): each is told about the other only.
   */
  async blockChanged(a: string, b: string): Promise<void> {
    const now = this.d.now();
    const [pa, pb] = await Promise.all([this.d.store.get(a, now), this.d.store.get(b, now)]);
    if (!pa || !pb || pa.venueId !== pb.venueId) return;
    const relations = await relationsBetween(this.d.prisma, [a], [b]);
    const profiles = relations.isBlocked(a, b) ? new Map<string, PublicProfile>() : await profilesOf(this.d.prisma, [a, b]);
    for (const [viewer, subject] of [
      [pa, pb],
      [pb, pa],
    ] as const) {
      const profile = profiles.get(subject.userId);
      const change: VenuePeopleChange =
        subject.visible && profile
          ? { type: 'upsert', person: { ...personOf(subject, profile), isFriend: relations.isFriend(viewer.userId, subject.userId) } }
          : { type: 'remove', userId: subject.userId };
      // The user's own room reaches their sockets on every node; only the one at the venue acts on it.
      this.d.io.to(Rooms.user(viewer.userId)).emit('venue:people', { venueId: viewer.venueId, changes: [change] });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.resync(), this.d.resyncMs);
    this.timer.unref();
  }

  /** Re-reads the venues this node's viewers are at and offers the difference (expiries, lost relays). */
  resync(): Promise<void> {
    this.resyncing ??= this.resyncOnce()
      .catch((err: unknown) => this.d.logger.warn({ err }, 'venue people resync failed'))
      .finally(() => (this.resyncing = null));
    return this.resyncing;
  }

  private async resyncOnce(): Promise<void> {
    const prefix = Rooms.venuePeople('');
    const active = new Set<string>();
    for (const room of this.d.io.of('/').adapter.rooms.keys()) if (room.startsWith(prefix)) active.add(room.slice(prefix.length));
    for (const venueId of this.known.keys()) {
      if (active.has(venueId)) continue;
      this.known.delete(venueId);
      this.differences.delete(venueId);
    }
    for (const venueId of active) {
      const now = this.d.now();
      const listed = new Map((await this.d.store.listVenue(venueId, now)).filter((p) => p.visible).map((p) => [p.userId, p]));
      const known = this.known.get(venueId);
      if (!known) {
        // First sight of this venue here: its viewers read the list when they checked in.
        this.known.set(
          venueId,
          new Map([...listed].map(([id, p]) => [id, { wantsToBuy: p.wantsToBuy, wantsToReceive: p.wantsToReceive }])),
        );
        continue;
      }
      // A difference is only a suspect when the previous round saw the very same one: during a rush most
      // differences are changes still on their way through the journal, and checking each would cost a
      // read per arrival.
      const seen = new Map<string, string>();
      for (const [id, flags] of known) {
        const p = listed.get(id);
        if (!p) seen.set(id, 'gone');
        else if (p.wantsToBuy !== flags.wantsToBuy || p.wantsToReceive !== flags.wantsToReceive)
          seen.set(id, `${p.wantsToBuy}/${p.wantsToReceive}`);
      }
      for (const [id, p] of listed) if (!known.has(id)) seen.set(id, `${p.wantsToBuy}/${p.wantsToReceive}`);
      const before = this.differences.get(venueId);
      this.differences.set(venueId, seen);
      const suspects = new Set([...seen].filter(([id, what]) => before?.get(id) === what).map(([id]) => id));
      if (suspects.size === 0) continue;
      // The venue index may trail the table by a moment: the user's own item decides.
      const truth = await Promise.all([...suspects].map((id) => this.d.store.get(id, now)));
      const here = new Map(
        truth.filter((p): p is PresenceRecord => p !== null && p.venueId === venueId && p.visible).map((p) => [p.userId, p]),
      );
      const profiles = await profilesOf(this.d.prisma, [...here.keys()]);
      const relays: VenuePeopleRelay[] = [];
      for (const id of suspects) {
        const p = here.get(id);
        const profile = p && profiles.get(id);
        const was = known.get(id);
        if (p && profile) {
          if (!was || was.wantsToBuy !== p.wantsToBuy || was.wantsToReceive !== p.wantsToReceive)
            relays.push({ venueId, userId: id, person: personOf(p, profile) });
        } else if (was) {
          relays.push({ venueId, userId: id, person: null });
        }
      }
      this.offerLocal(relays);
    }
    this.coalescer.prune(10 * 60_000);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.resyncing;
    this.coalescer.close();
    await this.ticks;
  }
}
