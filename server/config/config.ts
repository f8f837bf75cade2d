import { dirname, join } from 'node:path';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/**
 * The one place that reads the environment. Every field has a default that yields a complete
 * single-node server (embedded mode); each service URL switches one part to the real thing.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

/** A URL whose scheme is one of `schemes`; never throws (zod runs refinements even after .url() fails). */
const urlWithScheme = (schemes: string[], label: string) =>
  z.string().refine((u) => {
    try {
      return schemes.includes(new URL(u).protocol);
    } catch {
      return false;
    }
  }, `must be a valid ${label} URL`);

/** A hop count, or a list proxy-addr accepts (it throws on anything else). */
const trustProxy = z.string().refine((v) => {
  if (/^\d+$/.test(v)) return true;
  try {
    proxyaddr.compile(
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    return true;
  } catch {
    return false;
  }
}, 'must be a hop count or a comma-separated list of proxy addresses/subnets (loopback, linklocal, uniquelocal allowed)');

const postgresUrl = urlWithScheme(['postgres:', 'postgresql:'], 'postgres:// or postgresql://');
const redisUrl = urlWithScheme(['redis:', 'rediss:'], 'redis:// or rediss://');
const httpUrl = urlWithScheme(['http:', 'https:'], 'http:// or https://');

export const envSchema = z.object({
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

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),

  STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  /** Point the Stripe SDK elsewhere (tests use a local double); unset → api.stripe.com. */
  STRIPE_API_BASE: httpUrl.optional(),

  /** Currency of every order (ISO 4217, lower case as Stripe wants it). */
  ORDER_CURRENCY: z
    .string()
    .regex(/^[a-z]{3}$/)
    .default('usd'),
  /** An unredeemed order ends this long after creation and its hold is released (must stay under Stripe's ~7-day authorization). */
  ORDER_EXPIRY_HOURS: int(1, 144).default(24),
  /** How often the order-expiry job looks for ended orders and unreleased holds. */
  ORDER_EXPIRY_SWEEP_INTERVAL_MS: int(100, 3_600_000).default(30_000),
  /** Treats waiting for one recipient (PENDING or PAID) at once; more is LIMIT_REACHED. */
  MAX_PENDING_TREATS_PER_RECIPIENT: int(1, 1_000).default(5),
  /** Treats one buyer has out that nobody answered yet (PENDING or PAID); more is LIMIT_REACHED. */
  MAX_UNANSWERED_OFFERS_PER_BUYER: int(1, 1_000).default(10),
  /** How long an Idempotency-Key's answer is kept (the seed's idempotency table: 1 hour). */
  IDEMPOTENCY_TTL_SECONDS: int(60, 86_400).default(3_600),
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

  PRESENCE_TIMEOUT_SECONDS: int(5, 86_400).default(600),
  PRESENCE_GRACE_SECONDS: int(0, 3_600).default(60),
  PRESENCE_TTL_SECONDS: int(60, 7 * 86_400).default(4 * 3_600),
  /**
   * How long the stored presence lease outlives the heartbeat timeout. Heartbeats are kept in the memory
   * of the node holding the socket; the lease only matters when that node dies, and bounds how long its
   * users stay counted then (timeout + this).
   */
  PRESENCE_LEASE_EXTRA_SECONDS: int(0, 86_400).default(300),
  /** A heartbeat renews the stored lease only when less than this is left (must exceed the clients' heartbeat interval). */
  PRESENCE_LEASE_REFRESH_SECONDS: int(1, 86_400).default(90),
  /**
   * `lease`: heartbeats live in the node's memory and reach the store only to renew the lease.
   * `every`: each heartbeat writes the stored expiry — the naive baseline benchmarks compare against.
   */
  PRESENCE_HEARTBEAT_WRITES: z.enum(['lease', 'every']).default('lease'),
  CHECKIN_MAX_DISTANCE_METERS: int(1, 100_000).default(300),
  COUNT_COALESCE_MS: int(0, 10_000).default(250),
  /** A node publishes its count and people changes to the other nodes at most once per this window (one Redis publish). */
  FANOUT_PUBLISH_WINDOW_MS: int(0, 10_000).default(50),
  /**
   * The durable presence journal gathers changes this long and writes them in one statement: also the
   * most a crash can lose before the rebuild repairs it.
   */
  PRESENCE_JOURNAL_FLUSH_MS: int(10, 60_000).default(200),
  /** Users with a durable change waiting; past it changes are dropped (metric + log) and left to the rebuild. */
  PRESENCE_JOURNAL_MAX_PENDING: int(100, 10_000_000).default(100_000),
  /** Rebuild of the durable presence rows from the presence store: at start-up, then this often (0: start-up only). */
  PRESENCE_JOURNAL_REBUILD_INTERVAL_MS: int(0, 86_400_000).default(600_000),
  SWEEP_INTERVAL_MS: int(100, 3_600_000).default(5_000),
  /**
   * Each node renews a lease this long (DynamoDB in cluster mode, so a Redis outage is no alarm); when it
   * lapses, a survivor ends the stays whose sockets that node held. A dead node's guests are out within
   * about this plus 2 s, whatever PRESENCE_TIMEOUT_SECONDS; a node stalled for less than 3/4 of it keeps them.
   */
  NODE_LEASE_SECONDS: int(2, 600).default(10),
  /** Safety net: each node re-reads the counts its viewers watch this often and sends any a lost broadcast left stale. */
  COUNT_RESYNC_INTERVAL_MS: int(500, 3_600_000).default(5_000),
  RECONCILE_INTERVAL_MS: int(1_000, 86_400_000).default(60_000),
  /**
   * How often each node re-reads the people lists its sockets show, to repair a lost venue:people
   * message. Live changes (including expiries) are pushed as they happen; this is only the safety net,
   * and it costs one index query per watched venue per node.
   */
  PEOPLE_RESYNC_INTERVAL_MS: int(500, 3_600_000).default(10_000),
  SOCKET_MAX_MESSAGE_BYTES: int(1_024, 10_000_000).default(64 * 1024),
  SOCKET_EVENTS_PER_SECOND: int(1, 10_000).default(20),
  SOCKET_EVENTS_BURST: int(1, 10_000).default(40),
  SHUTDOWN_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /** On SIGTERM, /ready answers 503 this long before the listener closes (keep it under the timeout). */
  SHUTDOWN_DRAIN_MS: int(0, 30_000).default(0),
  MAP_TILE_URL: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),

  /** One-time sign-in codes live this long; short, since a code is a password while it lives. */
  CODE_TTL_SECONDS: int(30, 3_600).default(300),
  /** Wrong guesses allowed per code before it is burnt (6 digits: 5 guesses are a 1-in-200,000 chance). */
  CODE_MAX_ATTEMPTS: int(1, 20).default(5),
  /** Minimum gap between two codes sent to one destination. */
  CODE_RESEND_SECONDS: int(0, 3_600).default(30),
  /** Codes one destination may receive per hour: resends must not turn into an SMS-pumping channel. */
  CODE_SENDS_PER_HOUR: int(1, 1_000).default(6),
  /** Default delivery of codes: `log` (both channels), `smtp` (e-mail by SMTP) or `twilio` (SMS by Twilio); the per-channel variables override it. */
  CODE_SENDER: z.enum(['log', 'smtp', 'twilio']).default('log'),
  /** E-mail codes: `log` or `smtp`; unset → `smtp` when CODE_SENDER=smtp, else `log`. */
  CODE_SENDER_EMAIL: z.enum(['log', 'smtp']).optional(),
  /** SMS codes: `log` or `twilio`; unset → `twilio` when CODE_SENDER=twilio, else `log`. */
  CODE_SENDER_SMS: z.enum(['log', 'twilio']).optional(),
  /** SMTP server for e-mail codes, e.g. `smtps://user:pass@smtp.example.com:465`. */
  SMTP_URL: urlWithScheme(['smtp:', 'smtps:'], 'smtp:// or smtps://').optional(),
  /** The From of code e-mails, e.g. `TreatMe <codes@treatme.app>`. */
  CODE_FROM_EMAIL: z.string().min(3).optional(),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-zA-Z]{8,}$/, 'must be a Twilio account SID (AC…)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(8).optional(),
  /** Sender of code SMS: an E.164 number or a Messaging Service SID (MG…). */
  TWILIO_FROM: z
    .string()
    .regex(/^(\+[1-9]\d{6,14}|MG[0-9a-zA-Z]{8,})$/, 'must be an E.164 number or a Messaging Service SID')
    .optional(),
  /** Point the Twilio client elsewhere (tests use a local double). */
  TWILIO_API_BASE: httpUrl.default('https://api.twilio.com'),
  /** A code provider that has not answered after this long fails the request (retryable). */
  CODE_SEND_TIMEOUT_MS: int(100, 60_000).default(10_000),

  /** Google ID tokens: comma-separated OAuth client ids (the `aud`); unset → Google sign-in off. */
  GOOGLE_CLIENT_IDS: z.string().optional(),
  /** Google signs with either issuer spelling. */
  GOOGLE_ISSUERS: z.string().default('https://accounts.google.com,accounts.google.com'),
  GOOGLE_JWKS_URL: httpUrl.default('https://www.googleapis.com/oauth2/v3/certs'),
  /** Apple ID tokens: comma-separated service/bundle ids (the `aud`); unset → Apple sign-in off. */
  APPLE_CLIENT_IDS: z.string().optional(),
  APPLE_ISSUERS: z.string().default('https://appleid.apple.com'),
  APPLE_JWKS_URL: httpUrl.default('https://appleid.apple.com/auth/keys'),

  /** Sign-in and code requests allowed per client IP per minute (a venue's wifi is one IP for many phones). */
  RATE_LIMIT_AUTH_PER_MINUTE: int(1, 100_000).default(60),
  /** Writes (POST/PUT/DELETE) allowed per signed-in user per minute. */
  RATE_LIMIT_WRITES_PER_MINUTE: int(1, 100_000).default(120),

  /** Nearest-venue query results (PostgreSQL part only) are cached this long; 0 disables the cache. */
  VENUES_CACHE_SECONDS: int(0, 86_400).default(300),
  /**
   * `memory`: venue answers take counts from the node's count table, friends from the per-node friend
   * cache and presence directory, and venue details from prebuilt JSON. `per-request`: every answer reads
   * counts and friends' presence from the store and friends from PostgreSQL and re-serialises the venues
   * (the previous code, kept as the benchmark's baseline, not for production).
   */
  VENUES_READS: z.enum(['memory', 'per-request']).default('memory'),
  /** A caller's cached friend list is reloaded after this even without an invalidation (a lost one, a renamed friend). */
  FRIENDS_CACHE_SECONDS: int(1, 86_400).default(60),
  /** A registered push token is dropped after this many days without the app opening. */
  DEVICE_TTL_DAYS: int(1, 3_650).default(60),

  /** APNs signing key (.p8, token-based auth); with APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC it switches iOS pushes on. */
  APNS_KEY_FILE: z.string().min(1).optional(),
  APNS_KEY_ID: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, 'must be the 10-character key id')
    .optional(),
  APNS_TEAM_ID: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, 'must be the 10-character team id')
    .optional(),
  /** The app's bundle id (the `apns-topic`). */
  APNS_TOPIC: z.string().min(1).optional(),
  /** `production`, `sandbox`, or a URL (tests: an `http://` h2c double). */
  APNS_HOST: z.union([z.enum(['production', 'sandbox']), httpUrl]).default('production'),
  /** Google service-account key (JSON) of the Firebase project; switches Android pushes on. */
  FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  FCM_API_BASE: httpUrl.default('https://fcm.googleapis.com'),
  /** OAuth2 token endpoint for the JWT-bearer grant; unset → the key file's `token_uri`, else Google's. */
  FCM_TOKEN_URL: httpUrl.optional(),
  /** A provider request that has not answered after this long is retried. */
  PUSH_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Pushes queued per node (waiting or being retried); beyond this new ones are dropped and counted. */
  PUSH_QUEUE_MAX: int(1, 1_000_000).default(10_000),
  PUSH_CONCURRENCY: int(1, 1_000).default(16),
  /** Tries per push on 429/5xx/timeouts before giving up. */
  PUSH_MAX_ATTEMPTS: int(1, 20).default(5),
  /** First retry delay, doubled per attempt (with jitter), capped at 60 s. */
  PUSH_RETRY_BASE_MS: int(1, 60_000).default(1_000),
  /** Accepted orders still unredeemed this long before they expire get one "expires soon" push; 0 disables. */
  PUSH_EXPIRING_SOON_MINUTES: int(0, 1_440).default(60),

  /** Facebook Login: the app id whose user access tokens are accepted, and its secret (for debug_token). */
  FACEBOOK_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric app id').optional(),
  FACEBOOK_APP_SECRET: z.string().min(8).optional(),
  FACEBOOK_GRAPH_URL: httpUrl.default('https://graph.facebook.com/v21.0'),
  /** Instagram Login: the Instagram app id and secret (calls carry appsecret_proof, so another app's token fails). */
  INSTAGRAM_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric app id').optional(),
  INSTAGRAM_APP_SECRET: z.string().min(8).optional(),
  INSTAGRAM_GRAPH_URL: httpUrl.default('https://graph.instagram.com'),
  /** TikTok Login Kit: client key and secret (the server exchanges the app's authorization code). */
  TIKTOK_CLIENT_KEY: z.string().min(4).optional(),
  TIKTOK_CLIENT_SECRET: z.string().min(8).optional(),
  TIKTOK_API_BASE: httpUrl.default('https://open.tiktokapis.com'),
  /** Snapchat Login Kit: OAuth2 client id and secret. */
  SNAPCHAT_CLIENT_ID: z.string().min(4).optional(),
  SNAPCHAT_CLIENT_SECRET: z.string().min(8).optional(),
  SNAPCHAT_AUTH_URL: httpUrl.default('https://accounts.snapchat.com'),
  SNAPCHAT_API_BASE: httpUrl.default('https://kit.snapchat.com'),
  /** X (Twitter) OAuth 2.0: client id and secret. */
  TWITTER_CLIENT_ID: z.string().min(4).optional(),
  TWITTER_CLIENT_SECRET: z.string().min(8).optional(),
  TWITTER_API_BASE: httpUrl.default('https://api.x.com'),
  /** A sign-in provider that has not answered after this long fails the sign-in with 503 (retryable). */
  OAUTH_TIMEOUT_MS: int(100, 60_000).default(5_000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  mode: 'embedded' | 'cluster';
  /** DATA_DIR resolved: what embedded mode keeps lives in here. */
  dataDir: string;
  /** PGLITE_DATA_DIR resolved (`dataDir/pglite` unless set). */
  PGLITE_DATA_DIR: string;
  devMode: boolean;
  seedDemoData: boolean;
  nodeId: string;
  dynamo: { endpoint: string | undefined; region: string; tablePrefix: string } | undefined;
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined } | undefined;
  corsOrigins: '*' | string[];
  /** TRUST_PROXY as Express's `trust proxy` setting takes it. */
  trustProxy: false | number | string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset, as shells and compose files often export them. */
function clean(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}

/** A provider is either fully configured or not at all: half a configuration is a typo, not a choice. */
function providerProblems(e: Env): string[] {
  const out: string[] = [];
  const together = (names: (keyof Env)[]) => {
    const set = names.filter((n) => e[n] !== undefined);
    if (set.length > 0 && set.length < names.length)
      out.push(`${names.filter((n) => e[n] === undefined).join(', ')}: required with ${set.join(', ')}`);
  };
  together(['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC']);
  together(['FACEBOOK_APP_ID', 'FACEBOOK_APP_SECRET']);
  together(['INSTAGRAM_APP_ID', 'INSTAGRAM_APP_SECRET']);
  together(['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET']);
  together(['SNAPCHAT_CLIENT_ID', 'SNAPCHAT_CLIENT_SECRET']);
  together(['TWITTER_CLIENT_ID', 'TWITTER_CLIENT_SECRET']);
  const { email, phone } = codeSenders(e);
  if (email === 'smtp' && (!e.SMTP_URL || !e.CODE_FROM_EMAIL))
    out.push('SMTP_URL and CODE_FROM_EMAIL: required when e-mail codes go by SMTP');
  if (phone === 'twilio' && (!e.TWILIO_ACCOUNT_SID || !e.TWILIO_AUTH_TOKEN || !e.TWILIO_FROM)) {
    out.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM: required when SMS codes go by Twilio');
  }
  return out;
}

/** Which sender each code channel uses. */
export function codeSenders(c: Pick<Env, 'CODE_SENDER' | 'CODE_SENDER_EMAIL' | 'CODE_SENDER_SMS'>): {
  email: 'log' | 'smtp';
  phone: 'log' | 'twilio';
} {
  return {
    email: c.CODE_SENDER_EMAIL ?? (c.CODE_SENDER === 'smtp' ? 'smtp' : 'log'),
    phone: c.CODE_SENDER_SMS ?? (c.CODE_SENDER === 'twilio' ? 'twilio' : 'log'),
  };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(clean(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const usesServices = Boolean(e.DATABASE_URL || e.REDIS_URL || e.DYNAMODB_ENDPOINT || e.AWS_REGION);
  const mode = e.TREATME_MODE ?? (usesServices ? 'cluster' : 'embedded');
  if (e.TREATME_MODE === 'cluster') {
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required when TREATME_MODE=cluster');
    if (!e.REDIS_URL) problems.push('REDIS_URL: required when TREATME_MODE=cluster');
    if (!e.DYNAMODB_ENDPOINT && !e.AWS_REGION) problems.push('DYNAMODB_ENDPOINT or AWS_REGION: required when TREATME_MODE=cluster');
  }
  if (Boolean(e.STRIPE_SECRET_KEY) !== Boolean(e.STRIPE_WEBHOOK_SECRET)) {
    problems.push('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: set both or neither');
  }
  if (mode === 'cluster' && !e.JWT_SECRET && e.DEV_MODE !== true) {
    problems.push('JWT_SECRET: required outside embedded/dev mode (all nodes must share it)');
  }
  problems.push(...providerProblems(e));
  if (e.DEMO_CROWD > 0 && (e.DEV_MODE ?? mode === 'embedded') === false) {
    problems.push('DEMO_CROWD: the demo crowd signs in through the dev routes, so it needs DEV_MODE=true');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const devMode = e.DEV_MODE ?? mode === 'embedded';
  const dataDir = e.DATA_DIR ?? (e.PGLITE_DATA_DIR ? dirname(e.PGLITE_DATA_DIR) : '.data');
  return {
    ...e,
    mode,
    dataDir,
    PGLITE_DATA_DIR: e.PGLITE_DATA_DIR ?? join(dataDir, 'pglite'),
    devMode,
    seedDemoData: e.SEED_DEMO_DATA ?? devMode,
    nodeId: e.NODE_ID ?? `node-${process.pid}`,
    dynamo:
      e.DYNAMODB_ENDPOINT || e.AWS_REGION
        ? { endpoint: e.DYNAMODB_ENDPOINT, region: e.AWS_REGION ?? 'us-east-1', tablePrefix: e.DYNAMODB_TABLE_PREFIX }
        : undefined,
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiBase: e.STRIPE_API_BASE }
        : undefined,
    trustProxy: !e.TRUST_PROXY
      ? false
      : /^\d+$/.test(e.TRUST_PROXY)
        ? Number(e.TRUST_PROXY)
        : e.TRUST_PROXY.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    corsOrigins:
      e.CORS_ORIGINS === '*'
        ? '*'
        : e.CORS_ORIGINS.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
  };
}
