import { describe, expect, it } from 'vitest';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import { LivenessTracker, type LivenessTrackerOptions } from '../../server/realtime/liveness-tracker';

/** Lease 15 s (timeout 10 s + 5 s extra), renewed only in its last 2 s: the load tester's 60× settings. */
const leaseStore = () => new MemoryPresenceStore({ timeoutMs: 15_000, ttlMs: 3_600_000, refreshBelowMs: 2_000 });

function trackerOn(store: MemoryPresenceStore, now: () => number, hooks: Partial<LivenessTrackerOptions> = {}): LivenessTracker {
  return new LivenessTracker({
    store,
    timeoutMs: 10_000,
    refreshBelowMs: 2_000,
    intervalMs: 1_000,
    now,
    onEnded: () => undefined,
    onError: (err) => {
      throw err;
    },
    ...hooks,
  });
}

describe('LivenessTracker and the stored lease', () => {
  it('a phone that stops beating early in its lease is ended by its timeout, not earlier by the lease', async () => {
    const store = leaseStore();
    const t0 = 1_700_000_000_000;
    let t = t0;
    const ended: string[] = [];
    const renewed: number[] = [];
    const tracker = trackerOn(store, () => t, {
      onEnded: (userId) => ended.push(userId),
      onRenewed: (_u, p) => renewed.push(p.lastSeenAt),
    });
    const { presence } = await store.checkIn({ userId: 'u', venueId: 'v', lat: 0, lng: 0, now: t });
    tracker.beat('u', presence, t);
    // The last heartbeat, answered from memory: 3 s of lease left, more than the refresh window.
    t = t0 + 12_000;
    expect(tracker.beatIfFresh('u', t)).not.toBeNull();
    // Checks every second, a sweep after each: the stay must last until 12 s + 10 s.
    for (t = t0 + 13_000; t < t0 + 22_000; t += 1_000) {
      await tracker.check();
      expect(await store.sweepExpired(t)).toEqual([]);
      expect(await store.get('u', t)).not.toBeNull();
    }
    expect(renewed).toHaveLength(1);
    t = t0 + 22_000;
    await tracker.check();
    expect(ended).toEqual(['u']);
    expect((await store.getCounts(['v'])).get('v')!.count).toBe(0);
  });

  it('a socket closing while this node renews its lease starts the grace period after that write, which then ends the stay', async () => {
    const store = leaseStore();
    const t0 = 1_700_000_000_000;
    let t = t0;
    const tracker = trackerOn(store, () => t);
    const { presence } = await store.checkIn({ userId: 'u', venueId: 'v', lat: 0, lng: 0, now: t });
    tracker.beat('u', presence, t);
    t = t0 + 12_000;
    expect(tracker.beatIfFresh('u', t)).not.toBeNull();
    t = t0 + 13_500;
    // The check renews the lease (1.5 s left, heartbeats stopped); the socket closes while it is in flight.
    const checking = tracker.check();
    const renewal = tracker.renewalInFlight('u');
    expect(renewal).toBeDefined();
    tracker.forget('u');
    // What the close handler does: the socket's last seen stay, unless this node's renewal wrote a newer one.
    const renewed = await renewal!;
    await checking;
    expect(renewed!.lastSeenAt).toBe(t);
    // The socket's own copy alone would refuse the cut: the renewal looks like another connection's write.
    expect((await store.expireAt('u', t + 3_000, t, { unlessSeenAfter: presence.lastSeenAt }))?.expiresAt).toBe(renewed!.expiresAt);
    const cut = await store.expireAt('u', t + 3_000, t, { unlessSeenAfter: Math.max(presence.lastSeenAt, renewed!.lastSeenAt) });
    expect(cut?.expiresAt).toBe(t + 3_000);
    expect(tracker.renewalInFlight('u')).toBeUndefined();
    expect(await store.sweepExpired(t + 3_000)).toHaveLength(1);
    expect((await store.getCounts(['v'])).get('v')!.count).toBe(0);
  });

  it('a stay another node ended is not answered from memory once that node says so, and the next check drops it', async () => {
    const store = leaseStore();
    const t0 = 1_700_000_000_000;
    let t = t0;
    const tracker = trackerOn(store, () => t);
    const { presence } = await store.checkIn({ userId: 'u', venueId: 'v', lat: 0, lng: 0, now: t });
    tracker.beat('u', presence, t);
    // The cluster's sweeper (or a reaper) on another node ends the stay; this node only hears of it.
    await store.leave('u', t, 'v');
    t += 1_000;
    expect(tracker.beatIfFresh('u', t)).not.toBeNull(); // what memory alone would still answer
    tracker.doubt('u', 'elsewhere');
    expect(tracker.beatIfFresh('u', t)).not.toBeNull(); // off another venue: says nothing about this stay
    tracker.doubt('u', 'v');
    expect(tracker.beatIfFresh('u', t)).toBeNull(); // the heartbeat asks the store
    await tracker.check();
    expect(tracker.size).toBe(0);
  });
});
