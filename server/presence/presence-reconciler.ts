import type { Lock } from '../lib/locks';
import { PeriodicTask } from '../lib/periodic-task';
import type { PresenceMetrics } from './presence-metrics';
import type { Drift, PresenceStore } from './presence-store';
import type { SweeperLog } from './presence-sweeper';

export interface PresenceReconcilerOptions {
  store: PresenceStore;
  lock: Lock;
  /** RECONCILE_INTERVAL_MS. */
  intervalMs: number;
  log: SweeperLog;
  metrics: PresenceMetrics;
  now?: () => number;
  lockName?: string;
}

/**
 * Proves the counters: recounts presences per venue and repairs drift, on one node per interval.
 *
 * The lease is taken for a whole interval and not released after the run, so with N nodes the cluster
 * reconciles once per interval rather than N times. If a run outlasts its lease and another node starts,
 * nothing breaks: each repair is conditioned on the counter being unchanged since it was measured.
 */
export class PresenceReconciler {
  private readonly task: PeriodicTask<Drift[]>;
  private readonly now: () => number;
  private readonly lockName: string;

  constructor(private readonly opts: PresenceReconcilerOptions) {
    this.now = opts.now ?? Date.now;
    this.lockName = opts.lockName ?? 'presence-reconcile';
    this.task = new PeriodicTask(opts.intervalMs, () => this.run());
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Reconciles if this node gets the lease; resolves to the drift repaired (empty when another node has it). */
  runOnce(): Promise<Drift[]> {
    return this.task.runOnce();
  }

  private async run(): Promise<Drift[]> {
    const { store, lock, log, metrics } = this.opts;
    try {
      if (!(await lock.tryAcquire(this.lockName, this.opts.intervalMs))) return [];
      const drift = await store.reconcile(this.now());
      for (const d of drift) {
        metrics.driftRepaired.inc();
        log.warn({ venueId: d.venueId, stored: d.stored, actual: d.actual }, 'presence counter drift repaired');
      }
      // Only a repair is logged (above): a clean pass every minute would be noise.
      return drift;
    } catch (err) {
      log.warn({ err }, 'presence reconcile failed; retrying next interval');
      return [];
    }
  }
}
