import { mapLimit } from '../lib/map-limit';
import type { VenueCount, PresenceRecord, PresenceStore } from '../presence/presence-store';

/** Timed-out stays ended concurrently per check (each is one store transaction). */
const ENDS_IN_FLIGHT = 16;

interface Tracked {
  venueId: string;
  lastBeatAt: number;
  /** The stay as last read or written by this node; its expiresAt is the stored lease. */
  presence: PresenceRecord;
}

export interface LivenessTrackerOptions {
  store: PresenceStore;
  /** PRESENCE_TIMEOUT_SECONDS in ms: a stay ends this long after its last heartbeat. */
  timeoutMs: number;
  /**
   * The store renews a lease with less than this left; until then a heartbeat needs no store I/O.
   * Infinity (PRESENCE_HEARTBEAT_WRITES=every) sends every heartbeat to the store.
   */
  refreshBelowMs: number;
  intervalMs: number;
  now(): number;
  /** The stay ended for a missed heartbeat: deliver its count change and durable record. */
  onEnded(userId: string, venueId: string, changes: VenueCount[]): void;
  onError(err: unknown, userId: string): void;
  /** A check finished: every stay on this node whose heartbeat timeout fell before `through` has been ended. */
  onCheckedThrough?(through: number): void;
  /** The tracker renewed a stay's lease itself (its heartbeats stopped early in the lease): the new `lastSeenAt`. */
  onRenewed?(userId: string, presence: PresenceRecord): void;
}

/**
 * Heartbeats are remembered here, in the memory of the node holding the socket, instead of being
 * written to DynamoDB: the node ends a stay exactly `timeout` after its last heartbeat. The stored
 * expiry is only a lease that outlives the timeout a little and is renewed rarely (see
 * build-presence.ts); it matters when this node dies, and then the sweeper of any other node ends the
 * stay when the lease runs out. So a phone beating every 30 s costs a write every ~14 minutes instead
 * of one per beat, and the timeout stays exact. A phone that stops beating with less of the lease left
 * than its timeout gets its lease renewed here, once, so the lease never ends a stay before the timeout.
 */
export class LivenessTracker {
  private readonly users = new Map<string, Tracked>();
  /** Lease renewals in flight, by user: a grace cut must not race this node's own renewal. */
  private readonly renewing = new Map<string, Promise<PresenceRecord | null>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: LivenessTrackerOptions) {}

  /** Remembers a heartbeat for a stay just read or written by the store. */
  beat(userId: string, presence: PresenceRecord, at = this.o.now()): void {
    this.users.set(userId, { venueId: presence.venueId, lastBeatAt: at, presence });
  }

  /**
   * A heartbeat for a stay this node knows, whose lease is far from running out: remember it and
   * answer from memory, with no store read or write. Null when the store must be asked.
   */
  beatIfFresh(userId: string, at = this.o.now()): PresenceRecord | null {
    const t = this.users.get(userId);
    if (!t || t.presence.expiresAt - at < this.o.refreshBelowMs) return null;
    t.lastBeatAt = at;
    return t.presence;
  }

  forget(userId: string): void {
    this.users.delete(userId);
  }

  /**
   * The stay as this node's lease renewal for the user leaves it, if one is in flight. A socket that
   * closes meanwhile must start its grace period after that write: otherwise the renewal lands after
   * the cut and restores the long lease, or lands before it with a newer `lastSeenAt` that the cut's
   * "nobody wrote the stay since" condition takes for another connection. Either way the stay would
   * outlive its grace period by a whole lease.
   */
  renewalInFlight(userId: string): Promise<PresenceRecord | null> | undefined {
    return this.renewing.get(userId);
  }

  /**
   * Another node says the user left `venueId` (a sweep, a reap or a leave there): the stay this node
   * remembers may be gone. The next heartbeat asks the store instead of answering from memory, and the
   * next check renews (or drops) it from the store. Not a forget: if the stay is still there (a user
   * who only hid from the list), this node still ends it exactly at its heartbeat timeout.
   */
  doubt(userId: string, venueId: string): void {
    const t = this.users.get(userId);
    if (t && t.venueId === venueId) t.presence = { ...t.presence, expiresAt: Math.min(t.presence.expiresAt, 0) };
  }

  /** The store's truth changed under this node (it was declared dead): nothing remembered holds. */
  forgetAll(): void {
    this.users.clear();
  }

  get size(): number {
    return this.users.size;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Ends every tracked stay whose last heartbeat is older than the timeout. Several at a time: when a
   * network drop silences hundreds of phones at once, one store round trip after another would end
   * the last of them minutes late.
   */
  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.o.now();
      const due: [string, Tracked][] = [];
      for (const [userId, t] of this.users) if (now - t.lastBeatAt >= this.o.timeoutMs) due.push([userId, t]);
      for (const [userId] of due) this.users.delete(userId);
      // A phone whose heartbeats stopped early in the lease (stalled, socket still open) would see the
      // lease run out before its timeout, and the sweeper would end it early: renew those near the end.
      const expiring: string[] = [];
      for (const [userId, t] of this.users) {
        if (t.presence.expiresAt < t.lastBeatAt + this.o.timeoutMs && t.presence.expiresAt - now < this.o.refreshBelowMs)
          expiring.push(userId);
      }
      await mapLimit(expiring, ENDS_IN_FLIGHT, async (userId) => {
        const renewal = this.o.store.heartbeat(userId, now).then((r) => r.presence);
        this.renewing.set(
          userId,
          renewal.catch(() => null),
        );
        try {
          const presence = await renewal;
          const t = this.users.get(userId);
          if (!t) return;
          if (!presence) this.users.delete(userId);
          else {
            t.presence = presence;
            t.venueId = presence.venueId;
            this.o.onRenewed?.(userId, presence);
          }
        } catch (err) {
          this.o.onError(err, userId);
        } finally {
          this.renewing.delete(userId);
        }
      });
      await mapLimit(due, ENDS_IN_FLIGHT, async ([userId, t]) => {
        try {
          // Only the stay this node saw: a newer check-in elsewhere is left alone.
          const { changes, venueId } = await this.o.store.leave(userId, now, t.venueId);
          if (venueId) this.o.onEnded(userId, venueId, changes);
        } catch (err) {
          this.o.onError(err, userId);
        }
      });
      this.o.onCheckedThrough?.(now);
    } finally {
      this.running = false;
    }
  }
}
