import { z } from 'zod';
import { httpUrl, int, urlWithScheme } from './env-fields';

/**
 * Sign-in: session tokens, one-time codes and their senders (SMTP, Twilio), and the ID-token and
 * OAuth providers. A provider is on only when all its variables are set (checked in config.ts).
 */
export const authEnv = {
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),

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
};
