import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Express, Router } from 'express';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { AccessTokens, resolveJwtSecret } from './auth/access-tokens';
import { CredentialCheck } from './auth/credential-check';
import { MemorySessionCutoffs, RedisSessionCutoffs } from './auth/session-cutoffs';
import type { Config } from './config/config';
import type { AppContext, ReadinessCheck, RedisConnections } from './context';
import { createFeatureHooks } from './feature-hooks';
import { buildFeatures } from './features';
import { buildQueryCache } from './cache/query-cache';
import { buildRateLimits } from './rate-limit/rate-limiter';
import { buildFriendCache } from './social/build-friend-cache';
import { buildServices, type Services } from './services';
import { createDynamoClients } from './storage/dynamo-client';
import { createHttpApp } from './http/http-app';
import { startMetricsServer } from './http/metrics-endpoint';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { buildDynamoPresence, type BuiltPresence } from './presence/build-presence';
import { MemoryPresenceStore } from './presence/memory-presence-store';
import { leaseTimings } from './presence/presence-store';
import { memoryLock, redisLock } from './lib/locks';
import { dynamoPresenceSettings, httpAppSettings, logSettings, rateLimitSettings, socketServerSettings } from './settings';
import { handshakeAuth } from './realtime/handshake';
import { createSocketServer, trackConnections } from './realtime/socket-server';
import { openDatabase } from './storage/database';
import { seedDemoData } from './storage/demo-seed';
import { closeRedis, createRedis } from './storage/redis';

export interface BuildOptions {
  /** Replace the logger (tests pass a silent one). */
  logger?: Logger;
  /** Apply migrations on real PostgreSQL at start (tests and single-command dev setups). */
  migrate?: boolean;
  now?: () => number;
}

export interface RunningServer {
  ctx: AppContext;
  httpServer: HttpServer;
  /** Every shared service, as built once at start (tests drive the simulated gateway, read sent pushes…). */
  services: Services;
  /** The Express app (tests walk its router to prove every served route is documented). */
  app: Express;
  /** Listens (and starts the METRICS_PORT server if configured); resolves with the public port. */
  listen(port?: number, host?: string): Promise<number>;
  /** The METRICS_PORT server's bound port once listening, if one is configured. */
  metricsPort(): number | undefined;
  /** Drain and close everything; resolves when done. Safe to call twice. */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Wiring only: config → stores (PostgreSQL, Redis, one DynamoDB client) → presence → services
 * (services.ts) → features (features.ts) → transports; shutdown stops them in the reverse order.
 * These files and settings.ts are the composition root: the only code that reads the config and picks
 * implementations; every module below gets its own settings as arguments.
 */
export async function buildServer(config: Config, opts: BuildOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(logSettings(config));
  const metrics = createMetrics({ defaultMetrics: true });
  const now = opts.now ?? Date.now;
  const readiness: ReadinessCheck[] = [];
  const stoppables: AppContext['stoppables'] = [];

  logger.info({ mode: config.mode, devMode: config.devMode }, 'starting TreatMe live server');
  const db = await openDatabase(config, logger, { migrate: opts.migrate ?? config.mode === 'embedded' });
  readiness.push({ name: db.kind === 'pglite' ? 'database (embedded)' : 'database', check: () => db.ping() });
  if (config.seedDemoData) {
    const seeded = await seedDemoData(db.prisma, { centerLat: config.CITY_CENTER_LAT, centerLng: config.CITY_CENTER_LNG });
    logger.info(seeded, seeded.created ? 'demo data seeded' : 'demo data already present');
  }

  let redis: RedisConnections | undefined;
  if (config.REDIS_URL) {
    const keyPrefix = config.REDIS_KEY_PREFIX;
    redis = {
      main: createRedis(config.REDIS_URL, 'main', logger, metrics, { keyPrefix }),
      // Pub/sub clients must not queue while Redis is down: a stale burst of counts on reconnect is
      // worse than a fresh snapshot, which the fan-out layer sends on recovery.
      pub: createRedis(config.REDIS_URL, 'pub', logger, metrics, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1_000,
      }),
      // Subscriptions issued while Redis is down wait for it instead of failing after two retries.
      sub: createRedis(config.REDIS_URL, 'sub', logger, metrics, { maxRetriesPerRequest: null }),
    };
    const main = redis.main;
    readiness.push({ name: 'redis', check: async () => void (await main.ping()) });
  }

  // One DynamoDB client for the process: presence, idempotency and the device directory share it,
  // and it is destroyed once, after everything that uses it has stopped.
  const dynamo = config.dynamo
    ? createDynamoClients({ endpoint: config.dynamo.endpoint, region: config.dynamo.region, requests: metrics.dynamoRequests })
    : undefined;
  // DynamoDB when configured, the in-process store otherwise; Redis leases when clustered.
  const presence: BuiltPresence =
    config.dynamo && dynamo
      ? await buildDynamoPresence(dynamoPresenceSettings(config, config.dynamo), { logger, metrics, dynamo })
      : { store: new MemoryPresenceStore(leaseTimings(config)), readiness: [] };
  const locks = redis ? redisLock(redis.main, 'locks:') : memoryLock();
  readiness.push(...presence.readiness);

  const jwtSecret = resolveJwtSecret(
    config.JWT_SECRET,
    config.mode === 'embedded' && !config.PGLITE_IN_MEMORY ? join(config.dataDir, 'jwt-secret') : undefined,
  );
  // A cutoff matters only while tokens issued before it can still be unexpired.
  const cutoffKeepMs = (config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000;
  const credentials = new CredentialCheck(
    db,
    redis
      ? // Cached per node, invalidated over pub/sub: an authenticated request costs no Redis round trip.
        new RedisSessionCutoffs(redis.main, cutoffKeepMs, logger, { sub: redis.sub, channel: `${config.REDIS_KEY_PREFIX}session-cutoffs` })
      : new MemorySessionCutoffs(cutoffKeepMs),
  );
  const tokens = new AccessTokens(jwtSecret, config.ACCESS_TOKEN_TTL_SECONDS, credentials);

  const httpServer = createServer();
  const io = createSocketServer(httpServer, socketServerSettings(config));
  io.use(handshakeAuth(tokens));
  if (redis) {
    // Sharded pub/sub ('dynamic': one channel per room, subscribed while a local socket is in it)
    // narrows room broadcasts (io.to(room): a user's orders and friends, a venue's staff) to nodes
    // with someone in that room. Counts and people-list changes do not take that path: each node's
    // outbox (node-outbox.ts) sends one serverSideEmit frame per window, which the adapter publishes
    // on its main channel to every node, and each node emits to its own viewers (io.local).
    io.adapter(createShardedAdapter(redis.pub, redis.sub, { channelPrefix: `${config.REDIS_KEY_PREFIX}sio`, subscriptionMode: 'dynamic' }));
  }

  const ctx: AppContext = {
    logger,
    metrics,
    db,
    redis,
    dynamo,
    presence: presence.store,
    locks,
    tokens,
    credentials,
    io,
    hooks: createFeatureHooks(logger),
    limits: buildRateLimits({ redis }, rateLimitSettings(config)),
    friendCache: buildFriendCache({ ttlMs: config.FRIENDS_CACHE_SECONDS * 1000, db, io, redis, now }),
    queryCache: buildQueryCache({ redis: redis?.main, logger, registry: metrics.registry, now }),
    readiness,
    stoppables,
    now,
  };

  let draining = false;
  const built = buildServices(ctx, config);
  stoppables.push(...built.stoppables);
  const features = await buildFeatures(ctx, config, built.services, { isDraining: () => draining });
  const routers: Router[] = features.routers;
  const app = createHttpApp(ctx, httpAppSettings(config), routers, () => draining);
  // socket.io, attached first, serves its own path (HTTP long-polling, the fallback of browsers that
  // cannot open a WebSocket); Express sees every request too and must leave those alone.
  const socketPath = `${io.path()}/`;
  httpServer.on('request', (req, res) => {
    if (!req.url?.startsWith(socketPath)) app(req, res);
  });
  trackConnections(io, logger, metrics, features.socketFeatures);
  for (const job of features.jobs) {
    job.start();
    stoppables.push(job);
  }

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    shuttingDown ??= (async () => {
      draining = true;
      logger.info({ reason, drainMs: config.SHUTDOWN_DRAIN_MS }, 'draining: /ready is 503, then sockets go elsewhere');
      // A load balancer that routes by /ready needs to see the 503 before the listener goes away, or
      // it keeps sending new phones here until its health check fails on refused connections.
      if (config.SHUTDOWN_DRAIN_MS > 0) await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
      // Stop accepting; keep-alive HTTP connections are closed once idle.
      httpServer.close();
      httpServer.closeIdleConnections();
      // Closing the transport (not socket.disconnect) makes clients auto-reconnect, and the
      // presence grace period keeps their check-ins alive while they land on another node.
      io.local.emit('server:shutdown', { reconnectAfterMs: 250 });
      // The local socket map, not fetchSockets(): the cluster adapter's fetchSockets asks Redis for
      // the server count even for local queries, and Redis may be what is down.
      for (const socket of io.of('/').sockets.values()) socket.conn.close();
      for (const s of [...stoppables].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          logger.error({ err, job: s.name }, 'error while stopping');
        }
      }
      // The Redis adapter unsubscribes on close, which never answers while Redis is down.
      await Promise.race([new Promise<void>((res) => io.close(() => res())), new Promise((r) => setTimeout(r, 2_000).unref())]);
      await presence.store.close();
      dynamo?.client.destroy();
      if (redis) await Promise.all([closeRedis(redis.main), closeRedis(redis.pub), closeRedis(redis.sub)]);
      await db.close();
      httpServer.closeAllConnections();
      if (metricsServer) await new Promise<void>((res) => metricsServer!.server.close(() => res()));
      logger.info('shutdown complete');
    })();
    return shuttingDown;
  };

  return {
    ctx,
    services: built.services,
    httpServer,
    app,
    listen: async (port = config.PORT, host = config.HOST) => {
      if (config.METRICS_PORT !== undefined && !metricsServer) {
        metricsServer = await startMetricsServer(config.METRICS_PORT, host, metrics, logger);
      }
      return await new Promise<number>((res, rej) => {
        httpServer.once('error', rej);
        httpServer.listen(port, host, () => {
          httpServer.off('error', rej);
          res((httpServer.address() as AddressInfo).port);
        });
      });
    },
    metricsPort: () => metricsServer?.port,
    shutdown,
  };
}
