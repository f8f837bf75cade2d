import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { setNewest } from '../lib/bounded-map';

/**
 * A cache for query results that may be a few minutes stale (venue rows, menus). Never for live data:
 * counts and friends are read fresh on every request. Values are JSON, so both implementations return
 * the same shapes (dates come back as strings).
 */
export interface QueryCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** The cached value, or `load()`'s result stored for `ttlSeconds` (0 → not cached). */
  getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<{ value: T; hit: boolean }>;
}

abstract class BaseCache implements QueryCache {
  abstract get<T>(key: string): Promise<T | undefined>;
  abstract set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  abstract delete(key: string): Promise<void>;

  async getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<{ value: T; hit: boolean }> {
    if (ttlSeconds > 0) {
      const cached = await this.get<T>(key);
      if (cached !== undefined) return { value: cached, hit: true };
    }
    const value = await load();
    if (ttlSeconds > 0) await this.set(key, value, ttlSeconds);
    return { value, hit: false };
  }
}

export class RedisQueryCache extends BaseCache {
  constructor(
    private readonly redis: Redis,
    private readonly onError: (err: unknown) => void,
  ) {
    super();
  }

  // A cache outage must not become an API outage: misses and failed writes fall through to the database.
  async get<T>(key: string): Promise<T | undefined> {
    try {
      const raw = await this.redis.get(`qc:${key}`);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch (err) {
      this.onError(err);
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(`qc:${key}`, JSON.stringify(value), 'EX', ttlSeconds);
    } catch (err) {
      this.onError(err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(`qc:${key}`);
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Single-node cache with a size cap; the oldest insertion goes first when full. */
export class MemoryQueryCache extends BaseCache {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {
    super();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(e.json) as T;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    setNewest(this.entries, key, { json: JSON.stringify(value), expiresAt: this.now() + ttlSeconds * 1000 }, this.maxEntries);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

export interface BuiltQueryCache {
  cache: QueryCache;
  /** Hits and misses per cache use, so the benchmark and dashboards can show the cache earning its keep. */
  lookups: Counter<'cache' | 'result'>;
}

/** Redis when the server has it (shared by every node), a bounded Map otherwise; built once by the composition root. */
export function buildQueryCache(deps: {
  redis: Redis | undefined;
  logger: { warn(obj: object, msg: string): void };
  registry: Registry;
  now: () => number;
}): BuiltQueryCache {
  return {
    cache: deps.redis
      ? new RedisQueryCache(deps.redis, (err) => deps.logger.warn({ err }, 'query cache unavailable; reading through'))
      : new MemoryQueryCache(deps.now),
    lookups: new Counter({
      name: 'treatme_query_cache_lookups_total',
      help: 'Query cache lookups by cache name and result',
      labelNames: ['cache', 'result'] as const,
      registers: [deps.registry],
    }),
  };
}

// Plain reads of what the root built, under the names the venue read side calls.
export const queryCache = (ctx: { queryCache: BuiltQueryCache }): QueryCache => ctx.queryCache.cache;
export const cacheLookups = (ctx: { queryCache: BuiltQueryCache }): BuiltQueryCache['lookups'] => ctx.queryCache.lookups;
