import { describe, expect, it } from 'vitest';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import { LivenessTracker } from '../../server/realtime/liveness-tracker';

describe('LivenessTracker', () => {
  it('ends a crowd that went silent together in a few store round trips, not one after another', async () => {
    const store = new MemoryPresenceStore({ timeoutMs: 60_000, ttlMs: 3_600_000 });
    let t = 1_700_000_000_000;
    const ended: string[] = [];
    let through = 0;
    const tracker = new LivenessTracker({
      store,
      timeoutMs: 10_000,
      refreshBelowMs: 5_000,
      intervalMs: 1_000,
      now: () => t,
      onEnded: (userId) => ended.push(userId),
      onError: (err) => {
        throw err;
      },
      onCheckedThrough: (at) => (through = at),
    });
    for (let i = 0; i < 64; i++) {
      const { presence } = await store.checkIn({ userId: `u${i}`, venueId: 'v', lat: 0, lng: 0, now: t });
      tracker.beat(`u${i}`, presence, t);
    }
    // Fault injection on the real store: every end takes 50 ms, as a busy DynamoDB does.
    const leave = store.leave.bind(store);
    store.leave = async (...args) => {
      await new Promise((r) => setTimeout(r, 50));
      return leave(...args);
    };
    t += 10_000;
    const started = Date.now();
    await tracker.check();
    // 64 ends one at a time would take 3.2 s.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(ended).toHaveLength(64);
    expect((await store.getCounts(['v'])).get('v')!.count).toBe(0);
    expect(tracker.size).toBe(0);
    // Says how far it has caught up, for operators and the load tester's still-world wait.
    expect(through).toBe(t);
  });
});
