import { z } from 'zod';
import { bool, httpUrl, int, num, postgresUrl, redisUrl } from './env-fields';

/**
 * The process and the services it runs on: mode, logging, PostgreSQL/PGlite, Redis, DynamoDB (its
 * presence tuning included, since it is read where the DynamoDB store is built).
 */
export const servicesEnv = {
  /** `embedded` (no external service) or `cluster` (all of PostgreSQL, Redis, DynamoDB required); unset → inferred from the URLs. */
  TREATME_MODE: z.enum(['embedded', 'cluster']).optional(),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Identifies this process in logs, metrics and multi-node tests. */
  NODE_ID: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` forces human-readable logs, `json` forces JSON lines; unset → pretty only in a terminal. */
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  DATABASE_URL: postgresUrl.optional(),
  /** PostgreSQL schema to use inside DATABASE_URL's database (tests give each file its own). */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  /**
   * The one folder for everything embedded mode keeps across restarts (the PGlite database in
   * `pglite/`, the generated JWT secret in `jwt-secret`). Defaults to PGLITE_DATA_DIR's parent when
   * only that is set (what earlier versions did), `.data` otherwise.
   */
  DATA_DIR: z.string().min(1).optional(),
  /** Embedded PostgreSQL (PGlite) data folder, when it must live elsewhere than `DATA_DIR/pglite`. */
  PGLITE_DATA_DIR: z.string().min(1).optional(),
  /** Embedded PostgreSQL in memory only (nothing kept across restarts). */
  PGLITE_IN_MEMORY: bool.default(false),
  SEED_DEMO_DATA: bool.optional(),
  CITY_CENTER_LAT: num(-90, 90).default(40.7128),
  CITY_CENTER_LNG: num(-180, 180).default(-74.006),
  REDIS_URL: redisUrl.optional(),
  /** Prefix for every Redis key this server writes (tests give each file its own). */
  REDIS_KEY_PREFIX: z.string().default('treatme:'),
  DYNAMODB_ENDPOINT: httpUrl.optional(),
  AWS_REGION: z.string().min(1).optional(),
  DYNAMODB_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/)
    .default('clubapp-dev-'),
  /**
   * Counter items per venue: each caps near 1,000 writes/s in DynamoDB and serialises concurrent
   * transactions, so a hot venue spreads its count over several. May grow, never shrink.
   */
  DYNAMODB_COUNTER_SHARDS: int(1, 64).default(4),
  /** How long a check-in/move/leave waits for others to share its DynamoDB transaction (0: next turn of the event loop). */
  DYNAMODB_WRITE_WINDOW_MS: int(0, 50).default(2),
  /** Membership transactions one node keeps in flight at once, each on its own counter shard. */
  DYNAMODB_WRITE_SLOTS: int(1, 16).default(2),
  /** Create missing DynamoDB tables at start (dev and tests); production runs `npm run dynamo:tables`. */
  DYNAMODB_CREATE_TABLES: bool.default(false),
};
