import type { VenuePeopleRelay } from '../../protocol/events';
import type { PresenceEvent } from '../presence/presence-journal';
import { setNewest } from '../lib/bounded-map';
import { mapLimit } from '../lib/map-limit';
import type { PresenceStore } from '../presence/presence-store';

/** Where a user is visibly checked in (null: nowhere, or hidden), and which change said so. */
interface Seen {
  venueId: string | null;
  heardAt: number;
  seq: number;
}

/**
 * Where people are, as far as this node has heard: the presence journal's batches on the node that
 * made the change and the `venue:people-changes` relays every other node receives (the people list's
 * own stream), so "which friends are here" needs no store read per answer.
 *
 * A user heard of less than `freshMs` ago is answered from memory; anyone else (never heard of, or a
 * relay that may have been lost) is read from the store, all at once, and kept. So a lost relay, or a
 * stay that ended without one, shows for at most `freshMs` (the people list's resync interval).
 * A read that a newer relay overtook is not kept.
 */
export class PresenceDirectory {
  private readonly seen = new Map<string, Seen>();
  /** Users venue answers asked about, and when last: the background refresh keeps these fresh. */
  private readonly askedAt = new Map<string, number>();
  private readonly reading = new Map<string, Promise<string | null>>();
  private seq = 0;
  storeReads = 0;

  constructor(
    private readonly store: Pick<PresenceStore, 'get'>,
    private readonly now: () => number,
    private readonly freshMs: number,
    private readonly maxEntries = 500_000,
    /** How long after a caller last asked about a user the refresh keeps reading them. */
    private readonly askedForMs = 10 * 60_000,
  ) {}

  /** The journal's batch on the node where the changes were made. */
  readonly onJournal = (events: PresenceEvent[]): Promise<void> => {
    for (const e of events) this.set(e.userId, e.presence?.visible ? e.presence.venueId : null);
    return Promise.resolve();
  };

  /** Relays from other nodes, in the order each was made: a move is "off the old venue, on the new". */
  onRelays(relays: VenuePeopleRelay[]): void {
    for (const r of relays) {
      if (r.person) this.set(r.userId, r.venueId);
      else if (this.seen.get(r.userId)?.venueId === r.venueId) this.set(r.userId, null);
      // Off a venue we did not place them at: says nothing about where they are now.
    }
  }

  /** Each user's visible venue (or null), reading from the store only those not heard of lately. */
  async venuesOf(userIds: string[]): Promise<Map<string, string | null>> {
    const now = this.now();
    const out = new Map<string, string | null>();
    const unsure: string[] = [];
    for (const id of userIds) {
      setNewest(this.askedAt, id, now, this.maxEntries);
      const s = this.seen.get(id);
      if (s && now - s.heardAt < this.freshMs) out.set(id, s.venueId);
      else unsure.push(id);
    }
    if (unsure.length === 0) return out;
    const read = await this.read(unsure, now);
    for (const [id, venueId] of read) out.set(id, venueId);
    return out;
  }

  /**
   * Re-reads, off the request path, everyone asked about within `askedForMs` whose entry is older than
   * half of `freshMs`, so in a steady state a caller's friends are always answered from memory; the
   * directory is then never more than about half an interval behind the store for them.
   */
  async refresh(): Promise<void> {
    const now = this.now();
    const due: string[] = [];
    for (const [id, at] of this.askedAt) {
      if (now - at > this.askedForMs) {
        this.askedAt.delete(id);
        continue;
      }
      const s = this.seen.get(id);
      if (!s || now - s.heardAt >= this.freshMs / 2) due.push(id);
    }
    if (due.length > 0) await this.read(due, now);
  }

  /** Runs `refresh` every half `freshMs` until `stop`. */
  start(onError: (err: unknown) => void): { stop(): void } {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refresh()
        .catch(onError)
        .finally(() => (running = false));
    }, this.freshMs / 2);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** Store reads, one in flight per user however many callers wait for it. */
  private async read(userIds: string[], now: number): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const mine: string[] = [];
    const waits: Promise<void>[] = [];
    for (const id of userIds) {
      const running = this.reading.get(id);
      if (running) waits.push(running.then((v) => void out.set(id, v)));
      else mine.push(id);
    }
    if (mine.length > 0) {
      const startSeq = this.seq;
      this.storeReads += mine.length;
      const done = new Map<string, (v: string | null) => void>();
      const failed = new Map<string, (e: unknown) => void>();
      for (const id of mine) {
        const p = new Promise<string | null>((res, rej) => {
          done.set(id, res);
          failed.set(id, rej);
        });
        // A failure reaches whoever waits; nobody waiting must not make it unhandled.
        p.catch(() => undefined);
        this.reading.set(id, p);
      }
      let firstError: unknown;
      waits.push(
        mapLimit(mine, 32, async (id) => {
          try {
            const p = await this.store.get(id, now);
            const venueId = p?.visible ? p.venueId : null;
            const s = this.seen.get(id);
            // A relay heard while the read ran is newer than the read.
            const answer = s && s.seq > startSeq ? s.venueId : venueId;
            if (!(s && s.seq > startSeq)) this.set(id, venueId, now);
            out.set(id, answer);
            done.get(id)!(answer);
          } catch (err) {
            // Not thrown here: every other user of the batch must still be read and answered.
            firstError ??= err;
            failed.get(id)!(err);
          } finally {
            this.reading.delete(id);
          }
        }).then(() => {
          if (firstError !== undefined) throw firstError;
        }),
      );
    }
    await Promise.all(waits);
    return out;
  }

  private set(userId: string, venueId: string | null, at = this.now()): void {
    setNewest(this.seen, userId, { venueId, heardAt: at, seq: ++this.seq }, this.maxEntries);
  }
}
