import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
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
/** How long `cut` waits for the other nodes to say they applied it before it returns anyway. */
const ACK_TIMEOUT_MS = 1_000;
/**
 * A cached answer is asked of Redis again after this long: a belt to the invalidations' braces (they
 * are what keeps it right), bounding what a message lost without the link noticing could leave behind.
 */
const CACHED_FOR_MS = 30_000;
const MAX_CACHED = 100_000;

export interface CutoffInvalidation {
  /** The subscriber connection (it may be shared with other subscribers). */
  sub: Redis;
  /** Channel of the cluster's cutoffs (carries the cluster's key prefix; channels are not prefixed). */
  channel: string;
}

const Message = z.object({ id: z.string().max(64), userId: z.string().max(200), at: z.number() });

/**
 * Redis-backed, with this node's own cutoffs kept in memory too: while Redis is unreachable a node still
 * refuses the tokens it revoked itself, and requests are answered (a short wait, a warning) instead of
 * hanging behind a command queue.
 *
 * With `invalidation`, what Redis said about a user is cached on the node, so an authenticated request
 * costs no Redis round trip. A cut is written and published in one script, so a node reads either the
 * old value and then hears the message, or the new value. Every node applies the message to its cache
 * and acknowledges it; `cut` returns once every subscriber has (or after ACK_TIMEOUT_MS), so when a
 * logout-all or a deletion answers, no node in the cluster still answers from the old value.
 *
 * The cache is used only while the subscription is known to be live: when the subscriber connection
 * closes it is dropped (messages published meanwhile never arrive), and it is used again only once
 * the channel is subscribed anew. A read that was running across an invalidation or a link loss
 * answers its own request but is not kept.
 */
export class RedisSessionCutoffs implements SessionCutoffs {
  private readonly local: MemorySessionCutoffs;
  private warnedAt = 0;
  private readonly cached = new Map<string, { at: number | null; until: number }>();
  /** Bumped by every invalidation and link loss: a read keeps its answer only if this did not move. */
  private epoch = 0;
  /** Bumped by every link loss: a subscription confirmed for an older link does not make the cache live. */
  private link = 0;
  private live = false;
  private readonly acks = new Map<string, { need: number; got: number; done: () => void }>();
  /** Redis round trips made by `get` (tests assert the cache took them off the request path). */
  reads = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keepMs: number,
    private readonly logger: Logger,
    private readonly invalidation?: CutoffInvalidation,
    private readonly now: () => number = Date.now,
  ) {
    this.local = new MemorySessionCutoffs(keepMs);
    if (!invalidation) return;
    const { sub, channel } = invalidation;
    sub.on('message', (ch: string, raw: string) => {
      if (ch === channel) this.onCut(raw);
      else if (ch === `${channel}:ack`) this.onAck(raw);
    });
    const lost = () => {
      this.live = false;
      this.link++;
      this.epoch++;
      this.cached.clear();
    };
    sub.on('close', lost);
    sub.on('end', lost);
    sub.on('ready', () => void this.subscribe());
    void this.subscribe();
  }

  /** Whether answers come from the node's cache now (tests). */
  get cacheLive(): boolean {
    return this.live;
  }

  private async subscribe(): Promise<void> {
    const { sub, channel } = this.invalidation!;
    const link = this.link;
    try {
      // Also when ioredis resubscribes on its own after a reconnect: this reply comes after its.
      await sub.subscribe(channel, `${channel}:ack`);
      if (link === this.link) this.live = true;
    } catch (err) {
      this.logger.warn({ err }, 'session cutoff channel not subscribed; cutoffs are read from Redis per request');
    }
  }

  private onCut(raw: string): void {
    let m: z.infer<typeof Message>;
    try {
      m = Message.parse(JSON.parse(raw));
    } catch {
      return;
    }
    this.epoch++;
    const c = this.cached.get(m.userId);
    // Redis keeps the later of two cutoffs, and so does the cache.
    if (c) c.at = Math.max(c.at ?? 0, m.at);
    this.redis.publish(`${this.invalidation!.channel}:ack`, m.id).catch(() => undefined);
  }

  private onAck(id: string): void {
    const w = this.acks.get(id);
    if (w && ++w.got >= w.need) w.done();
  }

  async cut(userId: string, at: number): Promise<void> {
    await this.local.cut(userId, at);
    const id = randomUUID();
    const channel = this.invalidation?.channel ?? '';
    let waited: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (this.invalidation) {
      waited = new Promise<void>((done) => {
        this.acks.set(id, { need: Number.POSITIVE_INFINITY, got: 0, done });
        timer = setTimeout(() => {
          const w = this.acks.get(id);
          this.logger.warn({ acks: w?.got, subscribers: w?.need }, 'session cutoff not acknowledged by every node in time');
          done();
        }, ACK_TIMEOUT_MS);
      });
    }
    try {
      // Keep the later cutoff if two nodes cut at once; publish in the same step, so no node can read
      // the old value after the message has passed it.
      const subscribers = await this.redis.eval(
        "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end " +
          "if ARGV[3] ~= '' then return redis.call('PUBLISH', ARGV[3], ARGV[4]) end return 0",
        1,
        `cutoff:${userId}`,
        String(at),
        String(this.keepMs),
        channel,
        JSON.stringify({ id, userId, at }),
      );
      const w = this.acks.get(id);
      if (w) {
        w.need = Number(subscribers);
        if (w.got >= w.need) w.done();
      }
      await waited;
    } finally {
      clearTimeout(timer);
      this.acks.delete(id);
    }
  }

  async get(userId: string): Promise<number | null> {
    const local = await this.local.get(userId);
    if (this.live) {
      const c = this.cached.get(userId);
      if (c && c.until > this.now()) return c.at === null ? local : Math.max(c.at, local ?? 0);
    }
    const epoch = this.epoch;
    const live = this.live;
    this.reads++;
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
      if (live && this.live && epoch === this.epoch) {
        this.cached.delete(userId);
        if (this.cached.size >= MAX_CACHED) this.cached.clear();
        this.cached.set(userId, { at: shared, until: this.now() + CACHED_FOR_MS });
      }
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
