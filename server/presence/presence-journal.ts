import type { Logger } from '../observability/logger';
import type { PrismaClient } from '../storage/prisma-types';
import type { PresenceRecord } from './presence-store';

/** The durable record ignores heartbeats; its expiry is the seed's 24 h bound on a stay. */
const DURABLE_EXPIRY_MS = 24 * 3_600_000;
const WRITE_CONCURRENCY = 16;
const RETRY_MS = 2_000;

export interface PresenceEvent {
  userId: string;
  /** The user's stay after the change; null when it ended. */
  presence: PresenceRecord | null;
  /**
   * The venue the user was at as of the previous flush, when this batch moved them away from it (a move
   * or a leave): listeners that showed them there (the venue people list) must take them off it.
   */
  previousVenueId: string | null;
}

export type PresenceListener = (events: PresenceEvent[]) => Promise<void>;

/**
 * Writes each user's current check-in to PostgreSQL (the system of record) off the socket's hot path:
 * changes are queued, the newest per user wins, and a flush writes them in one batch. Listeners (friend
 * notifications, the venue people list) get the same batch after it is written. Shutdown flushes.
 */
export class PresenceJournal {
  private pending = new Map<string, { presence: PresenceRecord | null; previousVenueId: string | null }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners: PresenceListener[] = [];
  private lastError: unknown;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly flushMs = 200,
  ) {}

  onFlush(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  record(userId: string, presence: PresenceRecord | null, previousVenueId: string | null = null): void {
    // Several moves inside one batch (A→B→C): listeners only ever saw A, so the earliest venue left is kept.
    const left = this.pending.get(userId)?.previousVenueId ?? previousVenueId;
    this.pending.set(userId, { presence, previousVenueId: left !== null && left !== presence?.venueId ? left : null });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushMs);
    }
  }

  /** Writes everything queued so far; resolves when it (and any flush before it) is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: Map<string, { presence: PresenceRecord | null; previousVenueId: string | null }>): Promise<void> {
    if (batch.size === 0) return;
    const events: PresenceEvent[] = [...batch].map(([userId, e]) => ({ userId, ...e }));
    const ended = events.filter((e) => e.presence === null).map((e) => e.userId);
    const kept = events.filter((e): e is PresenceEvent & { presence: PresenceRecord } => e.presence !== null);
    const failed: PresenceEvent[] = [];
    // Rows are independent (one per user), so no transaction: a batch of hundreds inside one would hold
    // a connection for its whole length and time out under load, losing every row with it.
    for (let i = 0; i < kept.length; i += WRITE_CONCURRENCY) {
      await Promise.all(
        kept.slice(i, i + WRITE_CONCURRENCY).map(async (e) => {
          const p = e.presence;
          const data = {
            venueId: p.venueId,
            wantsToBuy: p.wantsToBuy,
            wantsToReceive: p.wantsToReceive,
            visible: p.visible,
            latitude: p.lat,
            longitude: p.lng,
            expiresAt: new Date(p.checkedInAt + DURABLE_EXPIRY_MS),
            lastSeenAt: new Date(p.lastSeenAt),
          };
          try {
            await this.prisma.presence.upsert({ where: { userId: e.userId }, create: { userId: e.userId, ...data }, update: data });
          } catch (err) {
            failed.push(e);
            this.lastError = err;
          }
        }),
      );
    }
    if (ended.length > 0) {
      try {
        await this.prisma.presence.deleteMany({ where: { userId: { in: ended } } });
      } catch (err) {
        failed.push(...events.filter((e) => e.presence === null));
        this.lastError = err;
      }
    }
    if (failed.length > 0) {
      // The hot copy (presence store) is authoritative for counts; the durable row catches up on a
      // retry unless a newer change for that user has been queued meanwhile.
      this.logger.error({ err: this.lastError, users: failed.length }, 'durable presence write failed; retrying');
      setTimeout(() => {
        if (this.closed) return;
        for (const e of failed) if (!this.pending.has(e.userId)) this.record(e.userId, e.presence, e.previousVenueId);
      }, RETRY_MS).unref();
    }
    for (const listener of this.listeners) {
      try {
        await listener(events);
      } catch (err) {
        this.logger.error({ err }, 'presence listener failed');
      }
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
