import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A named lease: held until released or until ttlMs passes (so a dead holder cannot block forever). */
export interface Lock {
  /** True when this holder now has the lease (re-acquiring one's own live lease also returns true). */
  tryAcquire(name: string, ttlMs: number): Promise<boolean>;
  /** Releases only a lease this holder still has; one that expired and was taken by another is left alone. */
  release(name: string): Promise<void>;
}

/** Leases shared by everything in this process (single-node mode). Each call makes a distinct holder. */
const memoryLeases = new Map<string, { holder: string; until: number }>();

export function memoryLock(opts: { now?: () => number; leases?: Map<string, { holder: string; until: number }> } = {}): Lock {
  const now = opts.now ?? Date.now;
  const leases = opts.leases ?? memoryLeases;
  const holder = randomUUID();
  return {
    async tryAcquire(name, ttlMs) {
      const current = leases.get(name);
      if (current && current.until > now() && current.holder !== holder) return false;
      leases.set(name, { holder, until: now() + ttlMs });
      return true;
    },
    async release(name) {
      if (leases.get(name)?.holder === holder) leases.delete(name);
    },
  };
}

// Deleting with a plain DEL after our lease expired would remove the next holder's lease.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const REACQUIRE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/** Leases across nodes: SET key token NX PX, released by compare-and-delete. One holder per call. */
export function redisLock(redis: Redis, prefix: string): Lock {
  const token = randomUUID();
  const key = (name: string) => `${prefix}lock:${name}`;
  return {
    async tryAcquire(name, ttlMs) {
      const ms = Math.max(1, Math.ceil(ttlMs));
      const ok = await redis.set(key(name), token, 'PX', ms, 'NX');
      if (ok === 'OK') return true;
      return Number(await redis.eval(REACQUIRE, 1, key(name), token, String(ms))) === 1;
    },
    async release(name) {
      await redis.eval(RELEASE, 1, key(name), token);
    },
  };
}
