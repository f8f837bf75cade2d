import { randomBytes } from 'node:crypto';
import type { NodeLease, NodeLeaseStore } from './node-leases';
import { PeriodicTask } from '../lib/periodic-task';
import type { VenueCount, EndedStay, PresenceStore } from './presence-store';

export interface NodeReaperLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NodeReaperMetrics {
  /** A survivor claimed a lapsed lease. */
  nodeDeclaredDead(): void;
  staysEnded(n: number): void;
  /** Seconds from the dead node's last renewal to the end of its last stay. */
  recovered(seconds: number): void;
  /** This node found its own lease taken: it was declared dead while alive (paused, cut off). */
  selfDeclaredDead(): void;
}

export interface NodeReaperOptions {
  nodeId: string;
  leases: NodeLeaseStore;
  store: PresenceStore;
  /** NODE_LEASE_SECONDS in ms. */
  leaseMs: number;
  /** How long a drained node's stays wait for their phones to resume elsewhere (the grace period). */
  drainGraceMs: number;
  now(): number;
  /** Count changes of the ended stays, for the fan-out (the sweeper's path). */
  onChanges(changes: VenueCount[]): void;
  /** Each ended stay, for the journal, people lists and friends (the sweeper's path). */
  onEnded(ended: EndedStay): void;
  /**
   * This node's own lease was found taken (it was stalled or cut off for longer than a lease): its
   * stays are being or have been ended. `previousKey` is the incarnation that died; the node now runs
   * as a new one and must hand its sockets back to the store's truth.
   */
  onDeclaredDead(previousKey: string): void;
  log: NodeReaperLog;
  metrics: NodeReaperMetrics;
}

function newKey(nodeId: string): string {
  return `${nodeId}~${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * Node liveness: this node renews a short lease of its own; every node watches the others' and, when
 * one lapses, one survivor (by a conditional claim) ends the stays that node still holds — the phones
 * that reconnected elsewhere first have moved their stays' `node` and keep them. A dead node's guests
 * are out within a lease plus a check interval of the crash, whatever the heartbeat timeout.
 *
 * Renewals run every lease/4, so a stall shorter than three quarters of a lease (GC pause, SIGSTOP, a
 * slow DynamoDB request, which is bounded) never lapses it.
 */
export class NodeReaper {
  private currentKey: string;
  private readonly renewTask: PeriodicTask<void>;
  private readonly watchTask: PeriodicTask<void>;
  private readonly renewMs: number;
  private lastRenewedAt = 0;
  private draining = false;

  constructor(private readonly o: NodeReaperOptions) {
    this.currentKey = newKey(o.nodeId);
    this.renewMs = Math.max(250, Math.floor(o.leaseMs / 4));
    this.renewTask = new PeriodicTask(this.renewMs, () => this.renew());
    this.watchTask = new PeriodicTask(Math.max(250, Math.min(1_000, Math.floor(o.leaseMs / 4))), () => this.watch());
  }

  /** The incarnation stays are tagged with (`node`). */
  key(): string {
    return this.currentKey;
  }

  /** Registers the lease before the node takes sockets, then keeps it and watches the others. */
  async start(): Promise<void> {
    await this.renew().catch((err: unknown) => this.o.log.warn({ err }, 'node lease: first renewal failed; retrying'));
    this.renewTask.start();
    this.watchTask.start();
  }

  /**
   * SIGTERM: stop renewing, but leave the lease to run for the grace period, so phones that reconnect
   * elsewhere take their stays over and the survivors end only the rest.
   */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([this.renewTask.stop(), this.watchTask.stop()]);
    const now = this.o.now();
    await this.o.leases
      .renew(this.currentKey, this.o.nodeId, now, now + Math.max(this.o.leaseMs, this.o.drainGraceMs))
      .catch((err: unknown) => {
        this.o.log.warn({ err }, 'node lease: could not hand over on drain; it lapses on its own');
      });
  }

  async stop(): Promise<void> {
    await Promise.all([this.renewTask.stop(), this.watchTask.stop()]);
  }

  async renew(): Promise<void> {
    if (this.draining) return;
    const now = this.o.now();
    const key = this.currentKey;
    try {
      const outcome = await this.o.leases.renew(key, this.o.nodeId, now, now + this.o.leaseMs);
      if (outcome === 'renewed') {
        this.lastRenewedAt = now;
        return;
      }
    } catch (err) {
      const since = this.lastRenewedAt ? now - this.lastRenewedAt : undefined;
      // Below a lease nothing is lost; past it the others may be ending this node's stays.
      (since !== undefined && since > this.o.leaseMs ? this.o.log.error : this.o.log.warn).call(
        this.o.log,
        { err, sinceRenewalMs: since },
        'node lease renewal failed',
      );
      return;
    }
    // Our row is no longer "alive": another node declared us dead while we were stalled or cut off.
    this.o.log.error(
      { previousKey: key, lastRenewedAt: this.lastRenewedAt },
      'this node was declared dead by the cluster; rejoining as a new incarnation',
    );
    this.o.metrics.selfDeclaredDead();
    this.currentKey = newKey(this.o.nodeId);
    this.o.onDeclaredDead(key);
    await this.renew();
    // Stays the old incarnation wrote after the survivor's reap (before we noticed) would otherwise wait
    // for their stored lease: end them too, once the sockets handed back have had a moment to resume.
    setTimeout(() => {
      this.endStaysOf(key).catch((err: unknown) =>
        this.o.log.warn({ err, previousKey: key }, 'ending the old incarnation’s leftover stays failed'),
      );
    }, 2_000).unref();
  }

  /** One look at every lease; lapsed ones are claimed and reaped. */
  async watch(): Promise<void> {
    const now = this.o.now();
    let leases: NodeLease[];
    try {
      leases = await this.o.leases.list();
    } catch (err) {
      this.o.log.warn({ err }, 'node leases unreadable; dead nodes are looked for again next interval');
      return;
    }
    for (const lease of leases) {
      if (lease.key === this.currentKey) continue;
      const lapsed = lease.state === 'alive' && lease.leaseUntil < now;
      const stalledClaim = lease.state === 'reaping' && (lease.claimUntil ?? 0) < now;
      if (!lapsed && !stalledClaim) continue;
      if (!(await this.o.leases.claim(lease, this.currentKey, now, now + 4 * this.o.leaseMs).catch(() => false))) continue;
      if (lapsed) this.o.metrics.nodeDeclaredDead();
      this.o.log.warn(
        { deadNode: lease.key, lastRenewedAt: lease.renewedAt, leaseUntil: lease.leaseUntil },
        'node lease lapsed: ending the stays it held',
      );
      await this.reap(lease).catch((err: unknown) =>
        this.o.log.error({ err, deadNode: lease.key }, 'ending a dead node’s stays failed; another survivor takes over'),
      );
    }
  }

  /** Ends the dead node's stays; a second pass catches stays the eventually consistent index had not shown yet. */
  private async reap(lease: NodeLease): Promise<void> {
    const ended = await this.endStaysOf(lease.key);
    const done = this.o.now();
    await this.o.leases.markDead(lease.key, this.currentKey, done);
    this.o.metrics.staysEnded(ended);
    const recovery = (done - lease.renewedAt) / 1000;
    this.o.metrics.recovered(recovery);
    this.o.log.warn({ deadNode: lease.key, staysEnded: ended, recoverySeconds: recovery }, 'dead node’s stays ended');
  }

  private async endStaysOf(key: string): Promise<number> {
    let ended = 0;
    const onEnded = (s: EndedStay) => {
      ended++;
      this.o.onEnded(s);
    };
    for (let pass = 0; pass < 2; pass++) {
      if (pass > 0) await new Promise((r) => setTimeout(r, 500));
      const changes = await this.o.store.endNodeStays(key, this.o.now(), onEnded);
      if (changes.length > 0) this.o.onChanges(changes);
    }
    return ended;
  }
}
