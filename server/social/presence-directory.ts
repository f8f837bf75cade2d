import type { VenuePeopleRelay } from '../../protocol/events';
import type { PresenceEvent } from '../presence/presence-journal';
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
  private seq = 0;
  storeReads = 0;

  constructor(
    private readonly store: Pick<PresenceStore, 'get'>,
    private readonly now: () => number,
    private readonly freshMs: number,
    private readonly maxEntries = 500_000,
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
      const s = this.seen.get(id);
      if (s && now - s.heardAt < this.freshMs) out.set(id, s.venueId);
      else unsure.push(id);
    }
    if (unsure.length === 0) return out;
    const startSeq = this.seq;
    this.storeReads += unsure.length;
    await mapLimit(unsure, 32, async (id) => {
      const p = await this.store.get(id, now);
      const venueId = p?.visible ? p.venueId : null;
      const s = this.seen.get(id);
      if (s && s.seq > startSeq) {
        out.set(id, s.venueId);
        return;
      }
      out.set(id, venueId);
      this.set(id, venueId, now);
    });
    return out;
  }

  private set(userId: string, venueId: string | null, at = this.now()): void {
    this.seen.delete(userId);
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(userId, { venueId, heardAt: at, seq: ++this.seq });
  }
}
