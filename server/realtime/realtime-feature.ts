import { Rooms } from '../../protocol/events';
import type { AppContext } from '../context';
import type { Job } from '../lib/job';
import { createPresenceMetrics } from '../presence/presence-metrics';
import { journalRebuildJob } from '../presence/journal-rebuild-job';
import { PresenceJournal } from '../presence/presence-journal';
import { PresenceReconciler } from '../presence/presence-reconciler';
import { PresenceSweeper } from '../presence/presence-sweeper';
import { CountFanout } from './count-fanout';
import { friendPresenceNotifier } from './friend-presence';
import { LivenessTracker } from './liveness-tracker';
import { buildNodeLiveness, type NodeLivenessSettings } from './node-liveness-feature';
import { deviceHandover } from './device-handover';
import { presenceHandlers } from './presence-handlers';
import type { SocketFeature } from './socket-server';
import { createEventLimiter, type EventGuardDeps } from './validated';
import { VenueCatalog } from './venue-catalog';
import { watchHandlers } from './watch-handlers';

export interface Realtime {
  catalog: VenueCatalog;
  fanout: CountFanout;
  journal: PresenceJournal;
  guard: EventGuardDeps;
  socketFeatures: SocketFeature[];
  jobs: Job[];
}

/** What presence and counts run on; each field's variable is documented in server/config/env-presence.ts. */
export interface RealtimeSettings {
  /** COUNT_COALESCE_MS: one count message per venue per window. */
  countWindowMs: number;
  /** FANOUT_PUBLISH_WINDOW_MS: one inter-node frame per window. */
  publishWindowMs: number;
  countResyncIntervalMs: number;
  journal: { flushMs: number; maxPending: number; rebuildIntervalMs: number };
  /** SOCKET_EVENTS_PER_SECOND and SOCKET_EVENTS_BURST, per socket. */
  events: { perSecond: number; burst: number };
  /** PRESENCE_TIMEOUT_SECONDS: a stay with no heartbeat this long ends. */
  timeoutMs: number;
  /** The lease is renewed only once it has less than this left (leaseTimings). */
  refreshBelowMs: number;
  sweepIntervalMs: number;
  reconcileIntervalMs: number;
  checkInMaxDistanceMeters: number;
  /** PRESENCE_GRACE_SECONDS: a closed socket's stay survives this long. */
  graceMs: number;
  nodes: NodeLivenessSettings;
}

/** Presence, live counts and their fan-out: the socket handlers plus the jobs that keep counts exact. */
export async function buildRealtime(ctx: AppContext, settings: RealtimeSettings, isDraining: () => boolean): Promise<Realtime> {
  const { logger, metrics, io, db } = ctx;
  const catalog = new VenueCatalog(async (ids) => {
    const rows = await db.prisma.venue.findMany({
      where: ids ? { id: { in: ids } } : {},
      select: { id: true, latitude: true, longitude: true },
    });
    return rows.map((r) => ({ id: r.id, lat: r.latitude, lng: r.longitude }));
  });
  await catalog.start();

  const fanout = new CountFanout(
    io,
    catalog,
    ctx.presence,
    logger,
    metrics,
    settings.countWindowMs,
    ctx.redis !== undefined,
    settings.publishWindowMs,
  );
  fanout.listenToOtherNodes();
  const journal = new PresenceJournal(db.prisma, logger, {
    flushMs: settings.journal.flushMs,
    maxPending: settings.journal.maxPending,
    registry: metrics.registry,
    now: ctx.now,
  });
  const rebuild = journalRebuildJob({
    journal,
    store: ctx.presence,
    lock: ctx.locks,
    logger,
    venueIds: () => [...catalog.all()].map((v) => v.id),
    intervalMs: settings.journal.rebuildIntervalMs,
  });
  journal.onFlush(friendPresenceNotifier(io, db.prisma));
  const guard: EventGuardDeps = {
    logger,
    metrics,
    limiter: createEventLimiter(settings.events.perSecond, settings.events.burst),
  };

  const liveness = new LivenessTracker({
    store: ctx.presence,
    timeoutMs: settings.timeoutMs,
    refreshBelowMs: settings.refreshBelowMs,
    intervalMs: Math.min(settings.sweepIntervalMs, 5_000),
    now: ctx.now,
    onEnded: (userId, venueId, changes) => {
      fanout.publish(changes);
      journal.record(userId, null, venueId);
    },
    onError: (err, userId) => logger.warn({ err, userId }, 'ending a timed-out presence failed; the lease will end it'),
    onCheckedThrough: (through) => metrics.presenceTimeoutsThrough.set(through / 1000),
    // The renewal is this node's write: its sockets' close may still cut the stay (grace period).
    onRenewed: (userId, presence) => {
      for (const id of io.of('/').adapter.rooms.get(Rooms.user(userId)) ?? []) {
        const socket = io.of('/').sockets.get(id);
        if (socket) socket.data.presenceSeenAt = presence.lastSeenAt;
      }
    },
  });

  // A stay ended elsewhere (the cluster's one sweeper, a reaper) must not be answered from this node's
  // memory: heartbeats would go on naming a venue the store no longer has the user at.
  fanout.outbox.onPeople((relays) => {
    for (const r of relays) if (!r.person) liveness.doubt(r.userId, r.venueId);
  });

  // A grace period that ran out, a dead node's lease or a dead node: follow up like a leave.
  const onStayEnded = ({ userId, venueId }: { userId: string; venueId: string }) => {
    liveness.forget(userId);
    journal.record(userId, null, venueId);
  };
  const nodes = buildNodeLiveness(ctx, settings.nodes, { liveness, onChanges: (changes) => fanout.publish(changes), onEnded: onStayEnded });
  const sweeper = new PresenceSweeper({
    store: ctx.presence,
    intervalMs: settings.sweepIntervalMs,
    onChanges: (changes) => fanout.publish(changes),
    onEnded: onStayEnded,
    onCaughtUp: (through) => metrics.presenceSweptThrough.set(through / 1000),
    lock: ctx.locks,
    onLease: (held) => metrics.presenceSweepLease.set(held ? 1 : 0),
    log: logger,
    now: ctx.now,
  });
  const reconciler = new PresenceReconciler({
    store: ctx.presence,
    lock: ctx.locks,
    intervalMs: settings.reconcileIntervalMs,
    log: logger,
    metrics: createPresenceMetrics(metrics.registry),
    now: ctx.now,
  });

  if (ctx.redis) {
    // Count changes from other nodes were lost while the adapter's Redis link was down: once the
    // subscriber is back, read the counts of everything watched here and send what changed.
    let wasDown = false;
    ctx.redis.sub.on('close', () => (wasDown = true));
    ctx.redis.sub.on('ready', () => {
      if (!wasDown) return;
      wasDown = false;
      fanout.resync('redis-recovered').catch((err: unknown) => logger.warn({ err }, 'count resync failed'));
    });
  }

  // Stopped in reverse: the sweeper first, then pending count broadcasts, then durable presence writes.
  const jobs: Job[] = [
    { name: 'presence-journal', start: () => undefined, stop: () => journal.close() },
    rebuild,
    { name: 'count-fanout', start: () => fanout.startPeriodicResync(settings.countResyncIntervalMs), stop: () => fanout.close() },
    { name: 'venue-catalog', start: () => undefined, stop: () => catalog.stop() },
    { name: 'presence-reconciler', start: () => reconciler.start(), stop: () => reconciler.stop() },
    { name: 'presence-sweeper', start: () => sweeper.start(), stop: () => sweeper.stop() },
    { name: 'presence-liveness', start: () => liveness.start(), stop: () => liveness.stop() },
    nodes.job,
  ];

  const socketFeatures: SocketFeature[] = [
    presenceHandlers({
      guard,
      store: ctx.presence,
      fanout,
      catalog,
      journal,
      liveness,
      logger,
      now: ctx.now,
      maxDistanceMeters: settings.checkInMaxDistanceMeters,
      graceMs: settings.graceMs,
      isDraining,
      nodeKey: nodes.key,
      ...(ctx.redis
        ? { reclaimElsewhere: deviceHandover({ io, store: ctx.presence, liveness, logger, now: ctx.now, nodeKey: nodes.key }) }
        : {}),
    }),
    watchHandlers({ guard, store: ctx.presence, catalog, table: fanout.table }),
  ];
  return { catalog, fanout, journal, guard, socketFeatures, jobs };
}
