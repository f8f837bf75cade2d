import type { Logger } from '../observability/logger';
import type { Lock } from '../lib/locks';
import { PeriodicTask } from '../lib/periodic-task';
import type { PresenceJournal } from './presence-journal';
import type { PresenceStore } from './presence-store';

export interface JournalRebuildDeps {
  journal: PresenceJournal;
  store: PresenceStore;
  lock: Lock;
  logger: Logger;
  /** Every venue a stay can be at (the catalog). */
  venueIds(): string[];
  /** 0: only at start-up. */
  intervalMs: number;
}

const LOCK = 'presence-journal-rebuild';
/** Holds the lease while a rebuild runs: long enough for thousands of venues, short enough that a crashed holder does not block the next node's start-up for long. */
const LEASE_MS = 120_000;

/**
 * Rebuilds the durable presence rows from the presence store at start-up (the node may have been killed
 * with a flush window unwritten) and then every `intervalMs` (another node may have died and never come
 * back), one node at a time across the cluster through a lease.
 */
export function journalRebuildJob(d: JournalRebuildDeps) {
  const once = async (reason: 'start-up' | 'periodic'): Promise<void> => {
    // The lease lives in Redis, which may be down (at start-up too): then this run is skipped and logged.
    const held = await d.lock.tryAcquire(LOCK, LEASE_MS).catch((err: unknown) => {
      d.logger.warn({ err, reason }, 'presence journal rebuild skipped: its lease is unreachable; the next one retries');
      return false;
    });
    if (!held) return;
    try {
      const r = await d.journal.rebuild(d.store, d.venueIds());
      const level = r.upserted + r.deleted > 0 ? 'warn' : 'info';
      d.logger[level](
        { reason, ...r },
        r.upserted + r.deleted > 0 ? 'presence journal rebuilt from the presence store' : 'presence journal agrees with the presence store',
      );
    } catch (err) {
      d.logger.warn({ err, reason }, 'presence journal rebuild failed; the next one retries');
    } finally {
      await d.lock.release(LOCK).catch(() => undefined);
    }
  };
  const periodic = d.intervalMs > 0 ? new PeriodicTask(d.intervalMs, () => once('periodic')) : undefined;
  let first: Promise<void> | undefined;
  return {
    name: 'presence-journal-rebuild',
    start: () => {
      first = once('start-up');
      periodic?.start();
    },
    stop: async () => {
      await periodic?.stop();
      await first;
    },
    runOnce: () => once('periodic'),
  };
}
