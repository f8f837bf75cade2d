import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';

/**
 * A per-user instant before which every access token is refused (logout-all, account deletion), shared
 * by every node: Redis in a cluster, memory on an embedded node. An access token lives at most
 * ACCESS_TOKEN_TTL_SECONDS, so a cutoff is kept only that long: after it every older token has expired anyway.
 */
export interface SessionCutoffs {
  cut(userId: string, at: number): Promise<void>;
  /** Epoch ms, or null when the user has none. */
  get(userId: string): Promise<number | null>;
}

export class MemorySessionCutoffs implements SessionCutoffs {
  private readonly cutoffs = new Map<string, { at: number; keepUntil: number }>();

  constructor(
    private readonly keepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async cut(userId: string, at: number): Promise<void> {
    const now = this.now();
    for (const [k, c] of this.cutoffs) if (c.keepUntil <= now) this.cutoffs.delete(k);
    const prev = this.cutoffs.get(userId)?.at ?? 0;
    this.cutoffs.set(userId, { at: Math.max(prev, at), keepUntil: now + this.keepMs });
  }

  async get(userId: string): Promise<number | null> {
    const c = this.cutoffs.get(userId);
    return c && c.keepUntil > this.now() ? c.at : null;
  }
}

const READ_TIMEOUT_MS = 500;

/**
 * Redis-backed, with this node's own cutoffs kept in memory too: while Redis is unreachable a node still
 * refuses the tokens it revoked itself, and requests are answered (a short wait, a warning) instead of
 * hanging behind a command queue.
 */
export class RedisSessionCutoffs implements SessionCutoffs {
  private readonly local: MemorySessionCutoffs;
  private warnedAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keepMs: number,
    private readonly logger: Logger,
  ) {
    this.local = new MemorySessionCutoffs(keepMs);
  }

  async cut(userId: string, at: number): Promise<void> {
    await this.local.cut(userId, at);
    // Keep the later cutoff if two nodes cut at once.
    await this.redis.eval(
      "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1",
      1,
      `cutoff:${userId}`,
      String(at),
      String(this.keepMs),
    );
  }

  async get(userId: string): Promise<number | null> {
    const local = await this.local.get(userId);
    try {
      const read = this.redis.get(`cutoff:${userId}`);
      // When the timeout wins, the read still settles later (ioredis rejects it after its retries):
      // handled here so a Redis outage is not an unhandled rejection on every authenticated request.
      read.catch(() => undefined);
      const raw = await Promise.race([
        read,
        new Promise<never>((_r, rej) => setTimeout(() => rej(new Error('session cutoff read timed out')), READ_TIMEOUT_MS).unref()),
      ]);
      const shared = raw === null ? null : Number(raw);
      return shared === null ? local : Math.max(shared, local ?? 0);
    } catch (err) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.logger.warn({ err }, 'session cutoffs unreadable in Redis; only this node’s own revocations apply');
      }
      return local;
    }
  }
}
