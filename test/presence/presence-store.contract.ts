import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { VenueCount, PresenceStore } from '../../server/presence/presence-store';

/** Both implementations expose this test hook to simulate a lost or doubled counter write. */
export type TestablePresenceStore = PresenceStore & { corruptCount(venueId: string, count: number): Promise<void> | void };

/** The timings every makeStore must use (short, so tests can jump the clock past them). */
export const CONTRACT_TIMINGS = { timeoutMs: 60_000, ttlMs: 600_000 };
const T = CONTRACT_TIMINGS;

const T0 = 1_700_000_000_000;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

function at(store: PresenceStore, user: string, venueId: string, now = T0) {
  return store.checkIn({ userId: user, venueId, lat: 40.7, lng: -74, now });
}

async function count(store: PresenceStore, venueId: string): Promise<number> {
  return (await store.getCounts([venueId])).get(venueId)?.count ?? -1;
}

function deltaOf(changes: VenueCount[]) {
  return Object.fromEntries(changes.map((c) => [c.venueId, c.count]));
}

export function describePresenceStore(name: string, makeStore: () => Promise<TestablePresenceStore>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let store: TestablePresenceStore;
    const stores: TestablePresenceStore[] = [];

    beforeEach(async () => {
      store = await makeStore();
      stores.push(store);
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
    });

    it('a check-in counts one and returns the new count', async () => {
      const v = uid('venue');
      const r = await at(store, uid('u'), v);
      expect(r.changes).toEqual([{ venueId: v, count: 1, version: expect.any(Number) }]);
      expect(r.previousVenueId).toBeNull();
      expect(r.presence).toMatchObject({
        venueId: v,
        wantsToBuy: false,
        wantsToReceive: false,
        visible: true,
        expiresAt: T0 + T.timeoutMs,
      });
      expect(await count(store, v)).toBe(1);
    });

    it('checking in at the same venue again changes no count and keeps the stay start', async () => {
      const v = uid('venue');
      const u = uid('u');
      await at(store, u, v);
      const again = await store.checkIn({ userId: u, venueId: v, lat: 41, lng: -73, wantsToBuy: true, now: T0 + 10_000 });
      expect(again.changes).toEqual([]);
      expect(again.presence).toMatchObject({ lat: 41, wantsToBuy: true, checkedInAt: T0, expiresAt: T0 + 10_000 + T.timeoutMs });
      expect(await count(store, v)).toBe(1);
    });

    it('a move is one atomic step: old venue -1 and new venue +1 in one result', async () => {
      const [a, b, u] = [uid('venue'), uid('venue'), uid('u')];
      await at(store, uid('other'), a);
      await at(store, u, a);
      const move = await at(store, u, b, T0 + 1000);
      expect(move.previousVenueId).toBe(a);
      expect(deltaOf(move.changes)).toEqual({ [a]: 1, [b]: 1 });
      expect(await count(store, a)).toBe(1);
      expect(await count(store, b)).toBe(1);
      expect((await store.get(u, T0 + 1000))?.venueId).toBe(b);
    });

    it('leave is idempotent: leaving twice decrements once', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      const first = await store.leave(u, T0 + 1);
      expect(deltaOf(first.changes)).toEqual({ [v]: 0 });
      const second = await store.leave(u, T0 + 2);
      expect(second.changes).toEqual([]);
      expect(await count(store, v)).toBe(0);
      expect(await store.get(u, T0 + 2)).toBeNull();
    });

    it('a late leave for a venue the user already moved away from changes nothing', async () => {
      const [a, b, u] = [uid('venue'), uid('venue'), uid('u')];
      await at(store, u, a);
      await at(store, u, b, T0 + 1);
      expect((await store.leave(u, T0 + 2, a)).changes).toEqual([]);
      expect(await count(store, b)).toBe(1);
    });

    it('a heartbeat writes nothing while the presence is fresh and refreshes it when half the timeout is gone', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      const fresh = await store.heartbeat(u, T0 + T.timeoutMs / 4);
      expect(fresh.wrote).toBe(false);
      expect(fresh.presence?.expiresAt).toBe(T0 + T.timeoutMs);
      const later = T0 + (T.timeoutMs * 3) / 4;
      const due = await store.heartbeat(u, later, { lat: 1, lng: 2 });
      expect(due.wrote).toBe(true);
      expect(due.presence).toMatchObject({ expiresAt: later + T.timeoutMs, lastSeenAt: later, lat: 1, lng: 2 });
      expect((await store.get(u, later))?.expiresAt).toBe(later + T.timeoutMs);
    });

    it('heartbeats cannot keep a presence beyond the ttl cap', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      let now = T0;
      while (now < T0 + T.ttlMs - T.timeoutMs) {
        now += T.timeoutMs * 0.75;
        await store.heartbeat(u, now);
      }
      expect((await store.get(u, now))?.expiresAt).toBe(T0 + T.ttlMs);
      expect((await store.heartbeat(u, T0 + T.ttlMs)).presence).toBeNull();
    });

    it('repeated check-ins at the same venue cannot extend a stay beyond the ttl cap', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      const late = T0 + T.ttlMs - 1_000;
      for (let now = T0 + T.timeoutMs / 2; now < late; now += T.timeoutMs / 2) await at(store, u, v, now);
      const last = await at(store, u, v, late);
      expect(last.changes).toEqual([]);
      expect(last.presence).toMatchObject({ checkedInAt: T0, expiresAt: T0 + T.ttlMs });
    });

    it('an expired presence is ignored by reads, not revived by a heartbeat, and ended once by sweeps', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      const after = T0 + T.timeoutMs;
      expect(await store.get(u, after)).toBeNull();
      expect(await store.listVenue(v, after)).toEqual([]);
      expect(await store.heartbeat(u, after)).toEqual({ presence: null, wrote: false });
      expect(await store.update(u, { wantsToBuy: true }, after)).toBeNull();
      const swept = await sweepAll(store, after);
      expect(deltaOf(swept)[v]).toBe(0);
      expect(deltaOf(await sweepAll(store, after + 1000))[v]).toBeUndefined();
      expect(await count(store, v)).toBe(0);
      expect((await store.leave(u, after + 2000)).changes).toEqual([]);
    });

    it('lists the unexpired people at a venue with their flags', async () => {
      const [v, a, b] = [uid('venue'), uid('u'), uid('u')];
      await store.checkIn({ userId: a, venueId: v, lat: 1, lng: 1, wantsToReceive: true, now: T0 });
      await store.checkIn({ userId: b, venueId: v, lat: 1, lng: 1, now: T0 + 30_000 });
      await store.update(b, { visible: false }, T0 + 30_000);
      await eventually(async () => {
        const people = await store.listVenue(v, T0 + 40_000);
        expect(people.map((p) => [p.userId, p.wantsToReceive, p.visible]).sort()).toEqual(
          [
            [a, true, true],
            [b, false, false],
          ].sort(),
        );
      });
      await eventually(async () => expect((await store.listVenue(v, T0 + T.timeoutMs + 1)).map((p) => p.userId)).toEqual([b]));
    });

    it('a closed socket grace ends the presence unless a heartbeat comes back first', async () => {
      const [v, u, w] = [uid('venue'), uid('u'), uid('u')];
      await at(store, u, v);
      await at(store, w, v);
      await store.expireAt(u, T0 + 5_000, T0 + 1_000);
      await store.expireAt(w, T0 + 5_000, T0 + 1_000);
      expect((await store.heartbeat(w, T0 + 2_000)).wrote).toBe(true);
      await sweepAll(store, T0 + 5_000);
      expect(await store.get(u, T0 + 5_000)).toBeNull();
      expect(await store.get(w, T0 + 5_000)).not.toBeNull();
      expect(await count(store, v)).toBe(1);
    });

    it('a grace cut from a connection another one has taken over changes nothing', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      const first = await at(store, u, v);
      // The phone changed networks: its new connection resumed the stay before the old socket was noticed dead.
      const resumed = await store.resume(u, T0 + 10_000);
      expect(resumed?.lastSeenAt).toBe(T0 + 10_000);
      const late = await store.expireAt(u, T0 + 45_000, T0 + 40_000, { unlessSeenAfter: first.presence.lastSeenAt });
      expect(late?.expiresAt).toBe(resumed?.expiresAt);
      await sweepAll(store, T0 + 50_000);
      expect(await count(store, v)).toBe(1);
      // The new connection's own close does cut it.
      await store.expireAt(u, T0 + 55_000, T0 + 50_000, { unlessSeenAfter: resumed!.lastSeenAt });
      await sweepAll(store, T0 + 55_000);
      expect(await count(store, v)).toBe(0);
    });

    it('resume restores a stay a grace period had cut short, and finds none after it ran out', async () => {
      const [v, u] = [uid('venue'), uid('u')];
      await at(store, u, v);
      await store.expireAt(u, T0 + 5_000, T0 + 1_000);
      const back = await store.resume(u, T0 + 3_000);
      expect(back!.expiresAt).toBeGreaterThan(T0 + 5_000);
      await store.expireAt(u, T0 + 8_000, T0 + 4_000);
      expect(await store.resume(u, T0 + 9_000)).toBeNull();
    });

    it('checking in again after expiry starts a new stay without double counting', async () => {
      const [a, b, u] = [uid('venue'), uid('venue'), uid('u')];
      await at(store, u, a);
      const back = await at(store, u, a, T0 + T.timeoutMs + 1);
      expect(back.changes).toEqual([]);
      expect(back.presence.checkedInAt).toBe(T0 + T.timeoutMs + 1);
      expect(await count(store, a)).toBe(1);
      const elsewhere = await at(store, u, b, T0 + 3 * T.timeoutMs);
      expect(elsewhere.previousVenueId).toBe(a);
      expect(deltaOf(elsewhere.changes)).toEqual({ [a]: 0, [b]: 1 });
      expect(await sweepAll(store, T0 + 3 * T.timeoutMs)).toEqual([]);
    });

    it('two concurrent sweeps end each expired presence exactly once', async () => {
      const v = uid('venue');
      const users = Array.from({ length: 12 }, () => uid('u'));
      await Promise.all(users.map((u) => at(store, u, v)));
      await at(store, uid('stays'), v, T0 + T.timeoutMs - 1);
      const after = T0 + T.timeoutMs;
      await Promise.all([sweepAll(store, after), sweepAll(store, after), sweepAll(store, after)]);
      expect(await count(store, v)).toBe(1);
    });

    it('50 concurrent check-ins at one venue by different users count exactly 50', async () => {
      const v = uid('venue');
      const results = await Promise.all(Array.from({ length: 50 }, () => at(store, uid('u'), v)));
      expect(await count(store, v)).toBe(50);
      expect(Math.max(...results.map((r) => r.changes[0]?.count ?? 0))).toBe(50);
    });

    it('concurrent moves and replays by one user never double count', async () => {
      const venues = [uid('venue'), uid('venue'), uid('venue')];
      const u = uid('u');
      const ops = Array.from({ length: 15 }, (_, i) => at(store, u, venues[i % 3] as string, T0 + i));
      await Promise.all(ops);
      const counts = await store.getCounts(venues);
      expect([...counts.values()].reduce((s, c) => s + c.count, 0)).toBe(1);
      const where = await store.get(u, T0 + 20);
      expect(counts.get(where?.venueId ?? '')?.count).toBe(1);
    });

    it('concurrent leave and check-in by one user leave a consistent count', async () => {
      const [a, b, u] = [uid('venue'), uid('venue'), uid('u')];
      await at(store, u, a);
      await Promise.all([store.leave(u, T0 + 1), at(store, u, b, T0 + 1), store.leave(u, T0 + 1, a)]);
      const counts = await store.getCounts([a, b]);
      const present = (await store.get(u, T0 + 2))?.venueId;
      expect(counts.get(a)?.count).toBe(0);
      expect(counts.get(b)?.count).toBe(present === b ? 1 : 0);
    });

    it('reconcile repairs a corrupted counter and reports the drift', async () => {
      const [v, w] = [uid('venue'), uid('venue')];
      await at(store, uid('u'), v);
      await at(store, uid('u'), v);
      await at(store, uid('u'), w);
      const before = (await store.getCounts([v])).get(v)?.version ?? 0;
      await store.corruptCount(v, 7);
      expect(await count(store, v)).toBe(7);
      const later = T0 + 120_000;
      await eventually(async () => expect(await store.reconcile(later)).toEqual([{ venueId: v, stored: 7, actual: 2 }]));
      const after = (await store.getCounts([v])).get(v);
      expect(after?.count).toBe(2);
      expect(after?.version).toBeGreaterThan(before);
      expect(await store.reconcile(later)).toEqual([]);
    });

    it('versions only grow, across check-ins, moves, leaves, sweeps and repairs', async () => {
      const [v, w] = [uid('venue'), uid('venue')];
      const seen: number[] = [];
      const record = async () => seen.push((await store.getCounts([v])).get(v)?.version ?? 0);
      const [u1, u2, u3] = [uid('u'), uid('u'), uid('u')];
      await record();
      await at(store, u1, v);
      await record();
      await at(store, u2, v);
      await record();
      await at(store, u3, v, T0 + 30_000);
      await record();
      await at(store, u1, w, T0 + 1);
      await record();
      await store.leave(u3, T0 + 2);
      await record();
      await sweepAll(store, T0 + T.timeoutMs);
      await record();
      await store.corruptCount(v, 3);
      await eventually(() => store.reconcile(T0 + 200_000));
      await record();
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
      expect(await count(store, v)).toBe(0);
    });

    it('getCounts answers every requested venue, zero for unknown ones', async () => {
      const v = uid('venue');
      const counts = await store.getCounts([v, v]);
      expect([...counts]).toEqual([[v, { count: 0, version: 0 }]]);
    });

    it('rejects a venue id the store reserves', async () => {
      await expect(at(store, uid('u'), '#user')).rejects.toThrow(/invalid venueId/);
    });
  });
}

/** Sweeps until nothing more expires at `now`, merging the changes (the last one per venue wins). */
export async function sweepAll(store: PresenceStore, now: number): Promise<VenueCount[]> {
  const merged = new Map<string, VenueCount>();
  for (;;) {
    const changes = await store.sweepExpired(now, 100);
    if (changes.length === 0) return [...merged.values()];
    for (const c of changes) {
      const prev = merged.get(c.venueId);
      if (!prev || c.version > prev.version) merged.set(c.venueId, c);
    }
  }
}

/** The DynamoDB venue index is eventually consistent (DynamoDB Local is immediate, AWS is not). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
