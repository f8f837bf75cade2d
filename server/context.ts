import type { Redis } from 'ioredis';
import type { AccessTokens } from './auth/access-tokens';
import type { CredentialCheck } from './auth/credential-check';
import type { BuiltQueryCache } from './cache/query-cache';
import type { FeatureHooks } from './feature-hooks';
import type { Logger } from './observability/logger';
import type { Metrics } from './observability/metrics';
import type { Stoppable } from './lib/job';
import type { Lock } from './lib/locks';
import type { PresenceStore } from './presence/presence-store';
import type { FriendCache } from './social/friend-cache';
import type { RateLimits } from './rate-limit/limits';
import type { TypedServer } from './realtime/typed-server';
import type { Database } from './storage/database';
import type { DynamoClients } from './storage/dynamo-client';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface RedisConnections {
  /** Commands: cache, rate limits, locks, one-time codes. */
  main: Redis;
  /** The socket.io adapter's publisher and subscriber (a subscriber cannot run commands). */
  pub: Redis;
  sub: Redis;
}

/**
 * What every module may use, built once by `buildServer` from config. It holds no config: each
 * module is handed the settings it needs by the composition root (settings.ts), and nothing below
 * reads the environment or picks implementations.
 */
export interface AppContext {
  logger: Logger;
  metrics: Metrics;
  db: Database;
  redis: RedisConnections | undefined;
  /**
   * The process's one DynamoDB client, set when DynamoDB is configured (cluster mode): presence,
   * idempotency and devices share it; `buildServer` destroys it after everything else has stopped.
   */
  dynamo: DynamoClients | undefined;
  presence: PresenceStore;
  locks: Lock;
  tokens: AccessTokens;
  /** Session cutoffs and the user-exists check every access token passes (logout-all, account deletion). */
  credentials: CredentialCheck;
  io: TypedServer;
  /** The per-IP and per-user limits (Redis-backed when clustered). */
  limits: RateLimits;
  /** Each user's accepted friends, per node, invalidated across nodes on every friendship or block change. */
  friendCache: FriendCache;
  /** Slow-changing query results (venue rows, menus) and their hit/miss counter. */
  queryCache: BuiltQueryCache;
  /** Events between features (a block changed…): announced by the owner, subscribed to by the others. */
  hooks: FeatureHooks;
  readiness: ReadinessCheck[];
  /** Stopped in reverse order on shutdown, after sockets are told to go and before stores close. */
  stoppables: Stoppable[];
  /** Injected clock so tests can jump time; production uses Date.now. */
  now(): number;
}
