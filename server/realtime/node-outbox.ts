import { Counter, type Registry } from 'prom-client';
import type { NodeFanoutFrame, VenueCount, VenuePeopleRelay } from '../../protocol/events';
import type { TypedServer } from './typed-server';

export interface NodeOutboxOptions {
  io: Pick<TypedServer, 'serverSideEmit' | 'on'>;
  /** At most one publish per this window (`FANOUT_PUBLISH_WINDOW_MS`). */
  windowMs: number;
  /** True with the Redis adapter; the in-memory adapter has no other node to tell. */
  clustered: boolean;
  registry?: Registry;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/**
 * What this node tells the other nodes, gathered per window: one Redis publish carries every count and
 * people-list change the node made in it, instead of one publish per check-in. The first change after a
 * quiet window goes out at once (leading edge), so a quiet night pays no delay; within a busy window,
 * counts keep only each venue's newest version (they are absolute) and people changes only each person's
 * newest state per venue (as the receivers' coalescers would). Receivers hand each part to its fan-out.
 */
export class NodeOutbox {
  private counts = new Map<string, VenueCount>();
  private people = new Map<string, VenuePeopleRelay>();
  private lastSentAt = -Infinity;
  private timer: unknown = null;
  private closed = false;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;
  private readonly countListeners: ((changes: VenueCount[]) => void)[] = [];
  private readonly peopleListeners: ((relays: VenuePeopleRelay[]) => void)[] = [];
  private readonly publishes: Counter<'kind'> | undefined;

  constructor(private readonly o: NodeOutboxOptions) {
    this.now = o.now ?? Date.now;
    this.setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout));
    this.publishes = o.registry
      ? new Counter({
          name: 'treatme_fanout_publishes_total',
          help: 'Inter-node fan-out frames this node published (one Redis publish each)',
          labelNames: ['kind'] as const,
          registers: [o.registry],
        })
      : undefined;
    o.io.on('node:fanout', (frame: NodeFanoutFrame) => {
      if (frame.counts.length > 0) for (const l of this.countListeners) l(frame.counts);
      if (frame.people.length > 0) for (const l of this.peopleListeners) l(frame.people);
    });
  }

  /** Count changes other nodes made. */
  onCounts(listener: (changes: VenueCount[]) => void): void {
    this.countListeners.push(listener);
  }

  /** People-list changes other nodes made. */
  onPeople(listener: (relays: VenuePeopleRelay[]) => void): void {
    this.peopleListeners.push(listener);
  }

  addCounts(changes: VenueCount[]): void {
    if (!this.o.clustered || changes.length === 0) return;
    for (const c of changes) {
      const had = this.counts.get(c.venueId);
      if (!had || had.version < c.version) this.counts.set(c.venueId, c);
    }
    this.schedule();
  }

  addPeople(relays: VenuePeopleRelay[]): void {
    if (!this.o.clustered || relays.length === 0) return;
    for (const r of relays) {
      const key = `${r.venueId} ${r.userId}`;
      // Delete first so a person's entry moves to the end: the frame keeps the order changes were made in.
      this.people.delete(key);
      this.people.set(key, r);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const since = this.now() - this.lastSentAt;
    // After close (shutdown's last journal flush), nothing waits for a window that will not come.
    if (since >= this.o.windowMs || this.closed) {
      this.send();
      return;
    }
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.send();
    }, this.o.windowMs - since);
  }

  /** Publishes whatever is pending now (shutdown). */
  flush(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.send();
  }

  private send(): void {
    if (this.counts.size === 0 && this.people.size === 0) return;
    const frame: NodeFanoutFrame = { counts: [...this.counts.values()], people: [...this.people.values()] };
    this.counts = new Map();
    this.people = new Map();
    this.lastSentAt = this.now();
    this.publishes?.inc({
      kind: frame.counts.length > 0 && frame.people.length > 0 ? 'both' : frame.counts.length > 0 ? 'counts' : 'people',
    });
    // Failures (Redis down) are swallowed by the adapter: other nodes catch up with a resync when Redis returns.
    this.o.io.serverSideEmit('node:fanout', frame);
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
