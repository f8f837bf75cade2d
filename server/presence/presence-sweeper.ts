import type { Lock } from '../lib/locks';
import { PeriodicTask } from '../lib/periodic-task';
import type { VenueCount, EndedStay, PresenceStore } from './presence-store';

export interface SweeperLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PresenceSweeperOptions {
  store: PresenceStore;
  /** SWEEP_INTERVAL_MS. */
  intervalMs: number;
  /** Count changes to broadcast (the fan-out layer coalesces them). */
  onChanges: (changes: VenueCount[]) => void;
  /** Each stay this sweeper ended. */
  onEnded?: (ended: EndedStay) => void;
  /** A sweep found nothing left to end: every stay expired before `through` (epoch ms) is over. */
  onCaughtUp?: (through: number) => void;
  log?: SweeperLog;
  now?: () => number;
  /** Presences ended per store call (default 500); a full batch is followed at once by another. */
  batch?: number;
  /**
   * The cluster's sweep lease: only its holder sweeps, so the cluster makes one pass per interval
   * instead of one per node. Without it (or while the lease store is unreachable) this node sweeps
   * anyway: ends are exactly-once whoever runs them.
   */
  lock?: Lock;
  lockName?: string;
  /** Whether this node holds the sweep lease, after each attempt to take or keep it. */
  onLease?: (held: boolean) => void;
}

/**
 * Ends expired presences on a timer. Runs never overlap: the next one is scheduled when the previous
 * finished. With a lock, one node holds the sweep lease and keeps it while it lives (renewed each run);
 * when it dies the lease lapses within two intervals and another node takes over. The caught-up gauge
 * (`onCaughtUp`) then advances on the holder only: the cluster's figure is the highest of the nodes'.
 */
export class PresenceSweeper {
  private readonly task: PeriodicTask<void>;
  private readonly now: () => number;
  private readonly batch: number;

  constructor(private readonly opts: PresenceSweeperOptions) {
    this.now = opts.now ?? Date.now;
    this.batch = opts.batch ?? 500;
    this.task = new PeriodicTask(opts.intervalMs, () => this.sweep());
  }

  start(): void {
    this.task.start();
  }

  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One sweep (draining a backlog batch by batch); concurrent calls share the run in progress. */
  runOnce(): Promise<void> {
    return this.task.runOnce();
  }

  private leaseLost = false;

  /** True when this node should sweep now. */
  private async holdsLease(): Promise<boolean> {
    const { lock } = this.opts;
    if (!lock) return true;
    try {
      const held = await lock.tryAcquire(this.opts.lockName ?? 'presence-sweep', 2 * this.opts.intervalMs + 1_000);
      if (this.leaseLost) this.opts.log?.info({}, 'presence sweeper: lease store reachable again');
      this.leaseLost = false;
      this.opts.onLease?.(held);
      return held;
    } catch (err) {
      if (!this.leaseLost)
        this.opts.log?.warn({ err }, 'presence sweeper: lease store unreachable; sweeping on this node until it is back');
      this.leaseLost = true;
      this.opts.onLease?.(true);
      return true;
    }
  }

  private async sweep(): Promise<void> {
    if (!(await this.holdsLease())) return;
    try {
      // A backlog (after an outage) is drained in batches, but a bounded number per run so the
      // sweeper cannot monopolise the store; the next run continues.
      for (let i = 0; i < 20; i++) {
        const through = this.now();
        const changes = await this.opts.store.sweepExpired(through, this.batch, this.opts.onEnded);
        if (changes.length === 0) this.opts.onCaughtUp?.(through);
        if (changes.length > 0) {
          try {
            this.opts.onChanges(changes);
          } catch (err) {
            this.opts.log?.warn({ err }, 'presence sweeper: onChanges threw');
          }
        }
        if (changes.length === 0 || this.task.isStopped) break;
      }
    } catch (err) {
      this.opts.log?.warn({ err }, 'presence sweep failed; retrying next interval');
    }
  }
}
