import { Counter, Histogram, type Registry } from 'prom-client';
import { ServerEvent } from '../../protocol/events';
import type { AppContext } from '../context';
import type { Job } from '../lib/job';
import type { NodeLeaseStore } from '../presence/node-leases';
import { NodeReaper, type NodeReaperMetrics } from '../presence/node-reaper';
import type { VenueCount, EndedStay } from '../presence/presence-store';
import type { LivenessTracker } from './liveness-tracker';

export interface NodeLiveness {
  /** The incarnation this node tags the stays it holds with. */
  key(): string;
  job: Job;
}

function reaperMetrics(registry: Registry): NodeReaperMetrics {
  const declared = new Counter({
    name: 'treatme_nodes_declared_dead_total',
    help: 'Lapsed node leases this node claimed (one survivor per dead node)',
    registers: [registry],
  });
  const ended = new Counter({
    name: 'treatme_node_stays_ended_total',
    help: 'Stays this node ended because the node holding their socket died',
    registers: [registry],
  });
  const recovery = new Histogram({
    name: 'treatme_node_recovery_seconds',
    help: 'From a dead node’s last lease renewal to the end of its last stay',
    buckets: [2, 5, 10, 12, 15, 20, 30, 60, 120],
    registers: [registry],
  });
  const self = new Counter({
    name: 'treatme_node_self_declared_dead_total',
    help: 'Times this node found its own lease taken (stalled or cut off longer than a lease)',
    registers: [registry],
  });
  return {
    nodeDeclaredDead: () => declared.inc(),
    staysEnded: (n) => ended.inc(n),
    recovered: (s) => recovery.observe(s),
    selfDeclaredDead: () => self.inc(),
  };
}

export interface NodeLivenessSettings {
  nodeId: string;
  leaseMs: number;
  /** The presence grace period: a draining node's phones have this long to land elsewhere. */
  drainGraceMs: number;
  /**
   * DynamoDB rows in cluster mode (independent of Redis), a trivial in-memory row in embedded mode
   * (one node, which never outlives itself): the composition root picks.
   */
  leases: NodeLeaseStore;
}

/**
 * Wires node leases into the server. A dead node's stays end through the sweeper's path: count
 * broadcast, journal (people lists, friends), tracker forgotten.
 */
export function buildNodeLiveness(
  ctx: AppContext,
  settings: NodeLivenessSettings,
  deps: { liveness: LivenessTracker; onChanges(changes: VenueCount[]): void; onEnded(ended: EndedStay): void },
): NodeLiveness {
  const { logger } = ctx;
  const { leaseMs, leases } = settings;
  const reaper = new NodeReaper({
    nodeId: settings.nodeId,
    leases,
    store: ctx.presence,
    leaseMs,
    drainGraceMs: settings.drainGraceMs,
    now: ctx.now,
    onChanges: deps.onChanges,
    onEnded: deps.onEnded,
    onDeclaredDead: (previousKey) => {
      // What this node remembers about its stays is no longer the truth: forget it, and send every
      // phone to reconnect. A reconnect resumes the stay if it still exists (moving it to the node it
      // lands on) or finds it ended, which the app then hears on its next heartbeat.
      deps.liveness.forgetAll();
      let handedBack = 0;
      for (const socket of ctx.io.of('/').sockets.values()) {
        if (!socket.data.userId) continue;
        socket.data.handedBack = true;
        socket.emit(ServerEvent.ServerShutdown, { reconnectAfterMs: 250 });
        // A moment for the notice to leave before the transport closes (the client then reconnects).
        setTimeout(() => socket.conn.close(), 100).unref();
        handedBack++;
      }
      logger.warn({ previousKey, handedBack }, 'sockets handed back after this node was declared dead');
    },
    log: logger,
    metrics: reaperMetrics(ctx.metrics.registry),
  });
  return {
    key: () => reaper.key(),
    job: {
      name: 'node-lease',
      start: () => void reaper.start(),
      stop: () => reaper.drain(),
    },
  };
}
