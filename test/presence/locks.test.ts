import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { memoryLock, redisLock } from '../../server/lib/locks';
import { PresenceReconciler } from '../../server/presence/presence-reconciler';
import { createPresenceMetrics } from '../../server/presence/presence-metrics';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import { PresenceSweeper } from '../../server/presence/presence-sweeper';
import type { VenueCount } from '../../server/presence/presence-store';
import { Registry } from 'prom-client';
import { isolationIds } from '../helpers/isolation';
import { DriftingMemoryStore } from './drifting-memory-store';

const { redisPrefix } = isolationIds('presence-locks');
const redis = new Redis(inject('redisUrl'), { lazyConnect: false, maxRetriesPerRequest: 2 });

afterAll(async () => {
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redis lock', () => {
  it('lets exactly one of many contenders hold a lease', async () => {
    const contenders = Array.from({ length: 10 }, () => redisLock(redis, redisPrefix));
    const won = await Promise.all(contenders.map((l) => l.tryAcquire('one', 5_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('keeps critical sections apart: no two holders ever inside at once', async () => {
    let inside = 0;
    let maxInside = 0;
    let entered = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const lock = redisLock(redis, redisPrefix);
        for (let i = 0; i < 10; i++) {
          if (!(await lock.tryAcquire('section', 2_000))) {
            await sleep(2);
            continue;
          }
          inside++;
          entered++;
          maxInside = Math.max(maxInside, inside);
          await sleep(3);
          inside--;
          await lock.release('section');
        }
      }),
    );
    expect(maxInside).toBe(1);
    expect(entered).toBeGreaterThan(1);
  });

  it('release by a holder whose lease expired does not free the next holder', async () => {
    const a = redisLock(redis, redisPrefix);
    const b = redisLock(redis, redisPrefix);
    expect(await a.tryAcquire('lease', 50)).toBe(true);
    await sleep(80);
    expect(await b.tryAcquire('lease', 5_000)).toBe(true);
    await a.release('lease');
    expect(await a.tryAcquire('lease', 5_000)).toBe(false);
    await b.release('lease');
    expect(await a.tryAcquire('lease', 5_000)).toBe(true);
  });
});

describe('memory lock', () => {
  it('excludes other holders until released or expired', async () => {
    let t = 0;
    const leases = new Map();
    const a = memoryLock({ now: () => t, leases });
    const b = memoryLock({ now: () => t, leases });
    expect(await a.tryAcquire('x', 100)).toBe(true);
    expect(await b.tryAcquire('x', 100)).toBe(false);
    t = 150;
    expect(await b.tryAcquire('x', 100)).toBe(true);
    await a.release('x');
    expect(await a.tryAcquire('x', 100)).toBe(false);
  });
});

describe('reconciler and sweeper', () => {
  const timings = { timeoutMs: 60_000, ttlMs: 600_000 };
  const quiet = { info: () => {}, warn: () => {} };

  it('only one of two nodes reconciles per interval; drift is logged and counted', async () => {
    const store = new DriftingMemoryStore(timings);
    await store.checkIn({ userId: 'a', venueId: 'v', lat: 0, lng: 0, now: 0 });
    store.corruptCount('v', 4);
    const registry = new Registry();
    const metrics = createPresenceMetrics(registry);
    const warnings: object[] = [];
    const log = { info: () => {}, warn: (o: object) => warnings.push(o) };
    const nodes = [redisLock(redis, redisPrefix), redisLock(redis, redisPrefix)].map(
      (lock) => new PresenceReconciler({ store, lock, intervalMs: 10_000, log, metrics, now: () => 0, lockName: 'reconcile-test' }),
    );
    const results = await Promise.all(nodes.map((n) => n.runOnce()));
    expect(results.flat()).toEqual([{ venueId: 'v', stored: 4, actual: 1 }]);
    expect(warnings).toEqual([{ venueId: 'v', stored: 4, actual: 1 }]);
    expect(await registry.getSingleMetricAsString('treatme_presence_drift_repaired_total')).toMatch(/ 1$/m);
    expect(createPresenceMetrics(registry).driftRepaired).toBe(metrics.driftRepaired);
  });

  it('the sweeper hands expired presences to onChanges and never overlaps runs', async () => {
    const store = new MemoryPresenceStore(timings);
    await store.checkIn({ userId: 'a', venueId: 'v', lat: 0, lng: 0, now: 0 });
    await store.checkIn({ userId: 'b', venueId: 'v', lat: 0, lng: 0, now: 30_000 });
    let active = 0;
    let maxActive = 0;
    const slow: typeof store = Object.create(store);
    slow.sweepExpired = async (now, limit) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(20);
      active--;
      return await store.sweepExpired(now, limit);
    };
    const seen: VenueCount[][] = [];
    const sweeper = new PresenceSweeper({ store: slow, intervalMs: 100, onChanges: (c) => seen.push(c), log: quiet, now: () => 61_000 });
    await Promise.all([sweeper.runOnce(), sweeper.runOnce(), sweeper.runOnce()]);
    expect(maxActive).toBe(1);
    expect(seen).toEqual([[{ venueId: 'v', count: 1, version: 3 }]]);
    sweeper.start();
    await sleep(150);
    await sweeper.stop();
    expect(seen).toHaveLength(1);
  });
});
