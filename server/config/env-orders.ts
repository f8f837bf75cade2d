import { z } from 'zod';
import { httpUrl, int } from './env-fields';

/**
 * Treats: payments (Stripe), order limits and expiry, idempotency, and the pushes that tell people
 * about them (device tokens, APNs, FCM).
 */
export const ordersEnv = {
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
};
