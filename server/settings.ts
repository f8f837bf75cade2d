import type { CodeSenderSettings } from './auth/codes/build-code-sender';
import type { CodeSettings } from './auth/codes/one-time-codes';
import type { SignInProviderSettings } from './auth/oauth/providers';
import type { SessionSettings } from './auth/sessions';
import { codeSenders, type Config } from './config/config';
import type { PushSettings } from './devices/build-push-sender';
import type { HttpAppSettings } from './http/http-app';
import type { WebPageSettings } from './http/routes/web-routes';
import type { LogSettings } from './observability/logger';
import { prettyLogs } from './observability/logger';
import type { OrderExpirySettings } from './orders/order-expiry-job';
import type { OrderSettings } from './orders/order-service';
import type { DynamoPresenceSettings } from './presence/build-presence';
import type { NodeLeaseStore } from './presence/node-leases';
import { leaseTimings } from './presence/presence-store';
import type { RateLimitSettings } from './rate-limit/rate-limiter';
import type { RealtimeSettings } from './realtime/realtime-feature';
import type { SocketServerSettings } from './realtime/socket-server';
import type { VenuePeopleSettings } from './venue-people/people-feature';
import type { VenueSettings } from './venues/venues-feature';

/**
 * Part of the composition root: the one place that turns the config into each module's own settings.
 * Below the root no module reads the config object (test/structure/config-reads.test.ts): each
 * declares the few values it needs and gets them from here.
 */

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const logSettings = (c: Config): LogSettings => ({ level: c.LOG_LEVEL, pretty: prettyLogs(c.LOG_FORMAT), nodeId: c.nodeId });

export const sessionSettings = (c: Config): SessionSettings => ({
  accessTokenTtlSeconds: c.ACCESS_TOKEN_TTL_SECONDS,
  refreshTokenTtlDays: c.REFRESH_TOKEN_TTL_DAYS,
});

export const codeSettings = (c: Config): CodeSettings => ({
  ttlSeconds: c.CODE_TTL_SECONDS,
  resendSeconds: c.CODE_RESEND_SECONDS,
  maxAttempts: c.CODE_MAX_ATTEMPTS,
  revealCode: c.devMode,
});

/** config.ts has already refused a half-configured sender. */
export function codeSenderSettings(c: Config): CodeSenderSettings {
  const kinds = codeSenders(c);
  return {
    ...(kinds.email === 'smtp' ? { smtp: { url: c.SMTP_URL!, from: c.CODE_FROM_EMAIL!, timeoutMs: c.CODE_SEND_TIMEOUT_MS } } : {}),
    ...(kinds.phone === 'twilio'
      ? {
          twilio: {
            accountSid: c.TWILIO_ACCOUNT_SID!,
            authToken: c.TWILIO_AUTH_TOKEN!,
            from: c.TWILIO_FROM!,
            apiBase: c.TWILIO_API_BASE,
            timeoutMs: c.CODE_SEND_TIMEOUT_MS,
          },
        }
      : {}),
  };
}

/** A provider is on only when its audience (client ids) or app credentials are set: otherwise any app's token would pass. */
export function signInProviderSettings(c: Config): SignInProviderSettings {
  const google = list(c.GOOGLE_CLIENT_IDS);
  const apple = list(c.APPLE_CLIENT_IDS);
  return {
    timeoutMs: c.OAUTH_TIMEOUT_MS,
    ...(google.length > 0 ? { google: { clientIds: google, issuers: list(c.GOOGLE_ISSUERS), jwksUrl: c.GOOGLE_JWKS_URL } } : {}),
    ...(apple.length > 0 ? { apple: { clientIds: apple, issuers: list(c.APPLE_ISSUERS), jwksUrl: c.APPLE_JWKS_URL } } : {}),
    // The others are on once their app credentials are set (config.ts refuses half a pair).
    ...(c.FACEBOOK_APP_ID && c.FACEBOOK_APP_SECRET
      ? { facebook: { appId: c.FACEBOOK_APP_ID, appSecret: c.FACEBOOK_APP_SECRET, graphUrl: c.FACEBOOK_GRAPH_URL } }
      : {}),
    ...(c.INSTAGRAM_APP_ID && c.INSTAGRAM_APP_SECRET
      ? { instagram: { appId: c.INSTAGRAM_APP_ID, appSecret: c.INSTAGRAM_APP_SECRET, graphUrl: c.INSTAGRAM_GRAPH_URL } }
      : {}),
    ...(c.TIKTOK_CLIENT_KEY && c.TIKTOK_CLIENT_SECRET
      ? { tiktok: { clientKey: c.TIKTOK_CLIENT_KEY, clientSecret: c.TIKTOK_CLIENT_SECRET, apiBase: c.TIKTOK_API_BASE } }
      : {}),
    ...(c.SNAPCHAT_CLIENT_ID && c.SNAPCHAT_CLIENT_SECRET
      ? {
          snapchat: {
            clientId: c.SNAPCHAT_CLIENT_ID,
            clientSecret: c.SNAPCHAT_CLIENT_SECRET,
            authUrl: c.SNAPCHAT_AUTH_URL,
            apiBase: c.SNAPCHAT_API_BASE,
          },
        }
      : {}),
    ...(c.TWITTER_CLIENT_ID && c.TWITTER_CLIENT_SECRET
      ? { twitter: { clientId: c.TWITTER_CLIENT_ID, clientSecret: c.TWITTER_CLIENT_SECRET, apiBase: c.TWITTER_API_BASE } }
      : {}),
  };
}

/** APNs and FCM are on when configured; embedded/dev set-ups have neither and keep the log sender. */
export const pushSettings = (c: Config): PushSettings => ({
  ...(c.APNS_KEY_FILE && c.APNS_KEY_ID && c.APNS_TEAM_ID && c.APNS_TOPIC
    ? { apns: { host: c.APNS_HOST, keyFile: c.APNS_KEY_FILE, keyId: c.APNS_KEY_ID, teamId: c.APNS_TEAM_ID, topic: c.APNS_TOPIC } }
    : {}),
  ...(c.FCM_SERVICE_ACCOUNT_FILE
    ? { fcm: { serviceAccountFile: c.FCM_SERVICE_ACCOUNT_FILE, apiBase: c.FCM_API_BASE, tokenUrl: c.FCM_TOKEN_URL } }
    : {}),
  timeoutMs: c.PUSH_TIMEOUT_MS,
  queue: {
    concurrency: c.PUSH_CONCURRENCY,
    maxQueued: c.PUSH_QUEUE_MAX,
    maxAttempts: c.PUSH_MAX_ATTEMPTS,
    baseDelayMs: c.PUSH_RETRY_BASE_MS,
  },
});

export const deviceTtlMs = (c: Config): number => c.DEVICE_TTL_DAYS * 86_400_000;

export const orderSettings = (c: Config): OrderSettings => ({
  maxPendingTreatsPerRecipient: c.MAX_PENDING_TREATS_PER_RECIPIENT,
  maxUnansweredOffersPerBuyer: c.MAX_UNANSWERED_OFFERS_PER_BUYER,
  currency: c.ORDER_CURRENCY,
  expiryHours: c.ORDER_EXPIRY_HOURS,
});

export const orderExpirySettings = (c: Config): OrderExpirySettings => ({
  sweepIntervalMs: c.ORDER_EXPIRY_SWEEP_INTERVAL_MS,
  expiringSoonMinutes: c.PUSH_EXPIRING_SOON_MINUTES,
});

export const rateLimitSettings = (c: Config): RateLimitSettings => ({
  authPerMinute: c.RATE_LIMIT_AUTH_PER_MINUTE,
  writesPerMinute: c.RATE_LIMIT_WRITES_PER_MINUTE,
  codeResendSeconds: c.CODE_RESEND_SECONDS,
  codeSendsPerHour: c.CODE_SENDS_PER_HOUR,
});

export const httpAppSettings = (c: Config): HttpAppSettings => ({
  trustProxy: c.trustProxy,
  corsOrigins: c.corsOrigins,
  prettyLogs: prettyLogs(c.LOG_FORMAT),
  metrics: { token: c.METRICS_TOKEN, ownPort: c.METRICS_PORT !== undefined, devMode: c.devMode },
});

/** Also used by the sockets benchmark's bare socket.io baseline, so both run with the same options. */
export const socketServerSettings = (c: Config): SocketServerSettings => ({
  maxMessageBytes: c.SOCKET_MAX_MESSAGE_BYTES,
  corsOrigins: c.corsOrigins,
  trustProxy: c.trustProxy,
  connectionsPerIp: c.SOCKET_CONNECTIONS_PER_IP,
  recoveryMs: c.PRESENCE_GRACE_SECONDS * 1000,
});

export const webPageSettings = (c: Config): WebPageSettings => ({
  tileUrl: c.MAP_TILE_URL,
  center: { lat: c.CITY_CENTER_LAT, lng: c.CITY_CENTER_LNG },
  devMode: c.devMode,
});

export const venueSettings = (c: Config): VenueSettings => ({
  reads: c.VENUES_READS,
  cacheSeconds: c.VENUES_CACHE_SECONDS,
  refreshMs: c.PEOPLE_RESYNC_INTERVAL_MS,
});

export const venuePeopleSettings = (c: Config): VenuePeopleSettings => ({
  windowMs: c.COUNT_COALESCE_MS,
  resyncMs: c.PEOPLE_RESYNC_INTERVAL_MS,
});

export const realtimeSettings = (c: Config, leases: NodeLeaseStore): RealtimeSettings => ({
  countWindowMs: c.COUNT_COALESCE_MS,
  publishWindowMs: c.FANOUT_PUBLISH_WINDOW_MS,
  countResyncIntervalMs: c.COUNT_RESYNC_INTERVAL_MS,
  journal: {
    flushMs: c.PRESENCE_JOURNAL_FLUSH_MS,
    maxPending: c.PRESENCE_JOURNAL_MAX_PENDING,
    rebuildIntervalMs: c.PRESENCE_JOURNAL_REBUILD_INTERVAL_MS,
  },
  events: { perSecond: c.SOCKET_EVENTS_PER_SECOND, burst: c.SOCKET_EVENTS_BURST },
  timeoutMs: c.PRESENCE_TIMEOUT_SECONDS * 1000,
  refreshBelowMs: leaseTimings(c).refreshBelowMs ?? 0,
  sweepIntervalMs: c.SWEEP_INTERVAL_MS,
  reconcileIntervalMs: c.RECONCILE_INTERVAL_MS,
  checkInMaxDistanceMeters: c.CHECKIN_MAX_DISTANCE_METERS,
  graceMs: c.PRESENCE_GRACE_SECONDS * 1000,
  nodes: { nodeId: c.nodeId, leaseMs: nodeLeaseMs(c), drainGraceMs: c.PRESENCE_GRACE_SECONDS * 1000, leases },
});

export const nodeLeaseMs = (c: Config): number => c.NODE_LEASE_SECONDS * 1000;

export const dynamoPresenceSettings = (c: Config, dynamo: NonNullable<Config['dynamo']>): DynamoPresenceSettings => ({
  tablePrefix: dynamo.tablePrefix,
  createTables: c.DYNAMODB_CREATE_TABLES,
  counterShards: c.DYNAMODB_COUNTER_SHARDS,
  nodeId: c.nodeId,
  writeWindowMs: c.DYNAMODB_WRITE_WINDOW_MS,
  writeSlots: c.DYNAMODB_WRITE_SLOTS,
  timings: leaseTimings(c),
});
