import { z } from 'zod';
import { bool, int, trustProxy } from './env-fields';

/**
 * The public edge: dev routes, CORS, proxies, per-client limits on sockets and requests, metrics,
 * socket message limits and shutdown.
 */
export const httpEnv = {
  DEV_MODE: bool.optional(),
  /** Simulated guests the embedded demo sends through real sockets (`npm run demo` sets 40); needs dev mode. */
  DEMO_CROWD: int(0, 500).default(0),
  /** Comma-separated browser origins allowed to open sockets and call the API; `*` allows any (without credentials). */
  CORS_ORIGINS: z.string().default('*'),
  /**
   * Which proxies in front of this server may name the client in `X-Forwarded-For`, as Express's
   * `trust proxy` understands it: a hop count (`1` = one load balancer) or a comma-separated list of
   * addresses, subnets or `loopback`/`linklocal`/`uniquelocal`. Unset → none: the TCP peer is the client,
   * so a forged header changes neither rate limits nor audit rows.
   */
  TRUST_PROXY: trustProxy.optional(),
  /** Socket connections one client address may hold open on a node (0: no limit); loopback peers are not limited. */
  SOCKET_CONNECTIONS_PER_IP: int(0, 1_000_000).default(200),
  /** Serve /metrics on this separate port (keep it off the public network) instead of the public one. */
  METRICS_PORT: int(0, 65535).optional(),
  /** Bearer token /metrics requires on the public port. Without it or METRICS_PORT, /metrics is public only in dev mode. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

  SOCKET_MAX_MESSAGE_BYTES: int(1_024, 10_000_000).default(64 * 1024),
  SOCKET_EVENTS_PER_SECOND: int(1, 10_000).default(20),
  SOCKET_EVENTS_BURST: int(1, 10_000).default(40),
  SHUTDOWN_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /** On SIGTERM, /ready answers 503 this long before the listener closes (keep it under the timeout). */
  SHUTDOWN_DRAIN_MS: int(0, 30_000).default(0),
  MAP_TILE_URL: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),

  /** Sign-in and code requests allowed per client IP per minute (a venue's wifi is one IP for many phones). */
  RATE_LIMIT_AUTH_PER_MINUTE: int(1, 100_000).default(60),
  /** Writes (POST/PUT/DELETE) allowed per signed-in user per minute. */
  RATE_LIMIT_WRITES_PER_MINUTE: int(1, 100_000).default(120),
};
