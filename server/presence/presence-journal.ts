import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger';
import type { PrismaClient } from '../storage/prisma-types';
import { applyCorrections, journalStatement, readJournalRows, ROWS_PER_STATEMENT, rowMatches, type JournalRow } from './journal-sql';
import { mapLimit } from '../lib/map-limit';
import type { PresenceRecord, PresenceStore } from './presence-store';

const RETRY_MS = 2_000;
/** At most one "falling behind" line per this long, however long it stays behind. */
const BEHIND_LOG_MS = 10_000;
const REBUILD_READ_CONCURRENCY = 8;

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

/** What the listeners of one flush share: each loader runs once per flush, whichever listener asks first. */
export interface FlushScope {
  once<T>(key: string, load: () => Promise<T>): Promise<T>;
}

export type PresenceListener = (events: PresenceEvent[], scope: FlushScope) => Promise<void>;

function flushScope(): FlushScope {
  const loaded = new Map<string, Promise<unknown>>();
  return {
    once<T>(key: string, load: () => Promise<T>): Promise<T> {
      let p = loaded.get(key) as Promise<T> | undefined;
      if (!p) loaded.set(key, (p = load()));
      return p;
    },
  };
}

export interface PresenceJournalOptions {
  /** How long changes gather before one write: also the most a crash can lose (`PRESENCE_JOURNAL_FLUSH_MS`). */
  flushMs?: number;
  /** Users with a change waiting; past it new users' changes are dropped and counted (`PRESENCE_JOURNAL_MAX_PENDING`). */
  maxPending?: number;
  registry?: Registry;
  now?: () => number;
}

type Pending = { presence: PresenceRecord | null; previousVenueId: string | null };

function journalMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    depth: new Gauge({
      name: 'treatme_presence_journal_depth',
      help: 'Presence changes queued or being written to PostgreSQL on this node',
      registers,
    }),
    rows: new Counter({
      name: 'treatme_presence_journal_rows_total',
      help: 'Durable presence rows by outcome: written, failed (retried), dropped (queue full; the rebuild repairs them)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    flushes: new Histogram({
      name: 'treatme_presence_journal_flush_seconds',
      help: 'Time of one journal flush (one statement per 2,000 rows)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    rebuilt: new Counter({
      name: 'treatme_presence_journal_rebuilt_rows_total',
      help: 'Durable presence rows the rebuild corrected from the presence store',
      labelNames: ['action'] as const,
      registers,
    }),
  };
}

/**
 * Writes each user's current check-in to PostgreSQL (the system of record) off the socket's hot path:
 * changes are queued, the newest per user wins, and a flush writes them all in one statement. At most one
 * flush is in flight; while it runs, new changes gather for the next, so a slow database makes batches
 * bigger, not more numerous. Listeners (friend notifications, the venue people list) get the same batch
 * after it is written. Shutdown flushes.
 *
 * The presence store is the hot truth and this is its durable copy: a crash loses at most the changes of
 * one flush window (plus the one in flight), and `rebuild` makes the rows agree with the store again.
 */
export class PresenceJournal {
  private pending = new Map<string, Pending>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners: PresenceListener[] = [];
  private readonly metrics: ReturnType<typeof journalMetrics>;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private lastError: unknown;
  private behindSince: number | null = null;
  private lastBehindLog = -Infinity;
  /** Users recorded since a running rebuild read the store: their rows are newer than its reading. */
  private touched: Set<string> | null = null;
  private closed = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    /** A number is the flush window alone. */
    options: PresenceJournalOptions | number = {},
  ) {
    const opts = typeof options === 'number' ? { flushMs: options } : options;
    this.flushMs = opts.flushMs ?? 200;
    this.maxPending = opts.maxPending ?? 100_000;
    this.now = opts.now ?? Date.now;
    this.metrics = journalMetrics(opts.registry);
  }

  onFlush(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** Changes waiting or being written. */
  depth(): number {
    return this.pending.size + this.inFlight;
  }

  record(userId: string, presence: PresenceRecord | null, previousVenueId: string | null = null): void {
    this.touched?.add(userId);
    const before = this.pending.get(userId);
    if (!before && this.pending.size >= this.maxPending) {
      // The store already has the change; only its durable copy and its notifications are lost, and
      // the rebuild (start-up, or `npm run presence:rebuild-journal`) repairs the copy.
      this.metrics.rows.inc({ outcome: 'dropped' });
      this.logBehind('presence journal queue full: dropping durable presence changes');
      return;
    }
    // Several moves inside one batch (A→B→C): listeners only ever saw A, so the earliest venue left is kept.
    const left = before?.previousVenueId ?? previousVenueId;
    this.pending.set(userId, { presence, previousVenueId: left !== null && left !== presence?.venueId ? left : null });
    this.metrics.depth.set(this.depth());
    this.schedule();
  }

  private schedule(): void {
    // A flush in flight schedules the next one when it ends: one at a time, however slow PostgreSQL is.
    if (this.timer || this.inFlight > 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /** Writes everything queued so far; resolves when it (and any flush before it) is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.writeOnce());
    return this.flushing;
  }

  private async writeOnce(): Promise<void> {
    const batch = this.pending;
    if (batch.size === 0) return;
    this.pending = new Map();
    this.inFlight = batch.size;
    const started = this.now();
    try {
      await this.write(batch);
    } finally {
      this.inFlight = 0;
      const took = this.now() - started;
      this.metrics.flushes.observe(took / 1000);
      this.metrics.depth.set(this.depth());
      this.watchLag(took);
      if (this.pending.size > 0) this.schedule();
    }
  }

  /** Behind: a flush took longer than the window it drains, so changes wait longer than promised. */
  private watchLag(tookMs: number): void {
    if (tookMs > this.flushMs) {
      this.behindSince ??= this.now();
      this.logBehind('presence journal falling behind: PostgreSQL writes take longer than the flush window', tookMs);
    } else if (this.behindSince !== null) {
      this.logger.info({ behindMs: this.now() - this.behindSince, depth: this.depth() }, 'presence journal caught up');
      this.behindSince = null;
    }
  }

  private logBehind(msg: string, lastFlushMs?: number): void {
    const now = this.now();
    if (now - this.lastBehindLog < BEHIND_LOG_MS) return;
    this.lastBehindLog = now;
    this.logger.warn({ depth: this.depth(), maxPending: this.maxPending, lastFlushMs, flushMs: this.flushMs }, msg);
  }

  private async write(batch: Map<string, Pending>): Promise<void> {
    const events: PresenceEvent[] = [...batch].map(([userId, e]) => ({ userId, ...e }));
    const failed: PresenceEvent[] = [];
    for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
      const chunk = events.slice(i, i + ROWS_PER_STATEMENT);
      const stmt = journalStatement(
        chunk.flatMap((e): [string, PresenceRecord][] => (e.presence ? [[e.userId, e.presence]] : [])),
        chunk.filter((e) => e.presence === null).map((e) => e.userId),
      );
      if (!stmt) continue;
      try {
        await this.prisma.$executeRaw(stmt);
        this.metrics.rows.inc({ outcome: 'written' }, chunk.length);
      } catch (err) {
        failed.push(...chunk);
        this.lastError = err;
        this.metrics.rows.inc({ outcome: 'failed' }, chunk.length);
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
    const scope = flushScope();
    for (const listener of this.listeners) {
      try {
        await listener(events, scope);
      } catch (err) {
        this.logger.error({ err }, 'presence listener failed');
      }
    }
  }

  /**
   * Makes the durable rows agree with the presence store (the hot truth): after a crash lost a flush
   * window, or after the queue dropped changes. Reads every venue's unexpired stays and every row,
   * re-reads each user whose row differs from their own item (the venue index may trail a write), and
   * corrects the row unless this node recorded a change for that user meanwhile or some node rewrote the
   * row since it was read. Corrections are the durable copy only: no listener is told.
   */
  async rebuild(store: PresenceStore, venueIds: string[]): Promise<{ stays: number; rows: number; upserted: number; deleted: number }> {
    const touched = new Set<string>();
    this.touched = touched;
    try {
      const now = this.now();
      const rows = new Map<string, JournalRow>((await readJournalRows(this.prisma)).map((r) => [r.userId, r]));
      const stays = new Map<string, PresenceRecord>();
      const venues = [...new Set([...venueIds, ...[...rows.values()].map((r) => r.venueId)])];
      await mapLimit(venues, REBUILD_READ_CONCURRENCY, async (venueId) => {
        for (const p of await store.listVenue(venueId, now)) if (p.expiresAt > now) stays.set(p.userId, p);
      });
      const suspects = new Set<string>();
      for (const [userId, row] of rows) {
        const stay = stays.get(userId);
        if (!stay || !rowMatches(row, stay)) suspects.add(userId);
      }
      for (const userId of stays.keys()) if (!rows.has(userId)) suspects.add(userId);
      const fixes: { userId: string; row: JournalRow | undefined; stay: PresenceRecord | null }[] = [];
      await mapLimit([...suspects], REBUILD_READ_CONCURRENCY, async (userId) => {
        const truth = await store.get(userId, now);
        const stay = truth && truth.expiresAt > now ? truth : null;
        const row = rows.get(userId);
        if (stay ? !row || !rowMatches(row, stay) : row) fixes.push({ userId, row, stay });
      });
      // Inside the write chain, after every flush queued before it: a user recorded since the read has a newer row coming.
      const result = await new Promise<{ upserted: number; deleted: number }>((resolve, reject) => {
        this.flushing = this.flushing.then(() =>
          applyCorrections(
            this.prisma,
            fixes.filter((f) => !touched.has(f.userId) && !this.pending.has(f.userId)),
          ).then(resolve, reject),
        );
      });
      this.metrics.rebuilt.inc({ action: 'upserted' }, result.upserted);
      this.metrics.rebuilt.inc({ action: 'deleted' }, result.deleted);
      return { stays: stays.size, rows: rows.size, ...result };
    } finally {
      if (this.touched === touched) this.touched = null;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
