import { z } from 'zod';

export const Email = z.email().trim().toLowerCase().max(254);
/** E.164: what SMS providers accept without guessing a country. */
export const Phone = z
  .string()
  .trim()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number like +14155550123');
export const DisplayName = z.string().trim().min(1).max(60);

/** The signed-in user's own view of their account. */
export const UserView = z.object({
  id: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  emailVerified: z.boolean(),
  phoneVerified: z.boolean(),
  profileImageUrl: z.string().nullable(),
  bio: z.string().nullable(),
  /** Sign-in providers linked to this account. */
  providers: z.array(z.string()),
});
export type UserView = z.infer<typeof UserView>;

export const SessionResponse = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Access token lifetime in seconds. */
  expiresIn: z.number().int(),
  user: UserView,
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const DevLoginBody = z.strictObject({ email: Email, displayName: DisplayName.optional() });
export type DevLoginBody = z.infer<typeof DevLoginBody>;

export const CodeChannel = z.enum(['email', 'phone']);
export type CodeChannel = z.infer<typeof CodeChannel>;

export const CodeRequestBody = z.discriminatedUnion('channel', [
  z.strictObject({ channel: z.literal('email'), destination: Email }),
  z.strictObject({ channel: z.literal('phone'), destination: Phone }),
]);
export type CodeRequestBody = z.infer<typeof CodeRequestBody>;

export const CodeRequestResponse = z.object({
  sent: z.literal(true),
  expiresInSeconds: z.number().int(),
  resendAfterSeconds: z.number().int(),
  /** Only in dev mode, so demos and tests can sign in without an inbox. */
  devCode: z.string().optional(),
});
export type CodeRequestResponse = z.infer<typeof CodeRequestResponse>;

export const OneTimeCode = z
  .string()
  .trim()
  .regex(/^\d{6}$/, 'must be 6 digits');
export const CodeVerifyBody = z.discriminatedUnion('channel', [
  z.strictObject({ channel: z.literal('email'), destination: Email, code: OneTimeCode, displayName: DisplayName.optional() }),
  z.strictObject({ channel: z.literal('phone'), destination: Phone, code: OneTimeCode, displayName: DisplayName.optional() }),
]);
export type CodeVerifyBody = z.infer<typeof CodeVerifyBody>;

/** Every OAuth id column of the User model; each provider plugs in through the same ID-token interface. */
export const OAuthProvider = z.enum(['google', 'apple', 'facebook', 'instagram', 'tiktok', 'snapchat', 'twitter']);
export type OAuthProvider = z.infer<typeof OAuthProvider>;
export const ProviderParams = z.strictObject({ provider: OAuthProvider });

export const IdTokenBody = z.strictObject({
  idToken: z.string().min(20).max(8_192),
  /** Apple sends the name only to the app, on first sign-in; the app passes it along. */
  displayName: DisplayName.optional(),
});
export type IdTokenBody = z.infer<typeof IdTokenBody>;

/** Facebook and Instagram: the user access token the app got from the provider's SDK. */
export const AccessTokenBody = z.strictObject({ accessToken: z.string().min(8).max(8_192), displayName: DisplayName.optional() });
/**
 * TikTok, Snapchat and X: their mobile login hands the app an authorization code (PKCE); the server
 * exchanges it with its client credentials, which is what proves the code was issued to this app.
 */
export const AuthCodeBody = z.strictObject({
  code: z.string().min(4).max(2_048),
  redirectUri: z.url().max(2_048),
  codeVerifier: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{43,128}$/, 'must be a PKCE code verifier')
    .optional(),
  displayName: DisplayName.optional(),
});
/** What each provider's sign-in sends: an ID token (Google, Apple), an access token or an authorization code. */
export const ProviderCredentialBody = z.union([IdTokenBody, AccessTokenBody, AuthCodeBody]);
export type ProviderCredentialBody = z.infer<typeof ProviderCredentialBody>;

export const ProvidersResponse = z.object({
  /** Providers linked to this account. */
  linked: z.array(OAuthProvider),
  /** Providers this server accepts sign-in with. */
  enabled: z.array(OAuthProvider),
  /** Other ways in: codes to the account's e-mail or phone. */
  codes: z.object({ email: z.boolean(), phone: z.boolean() }),
});
export type ProvidersResponse = z.infer<typeof ProvidersResponse>;

export const RefreshBody = z.strictObject({ refreshToken: z.string().min(20).max(200) });
export type RefreshBody = z.infer<typeof RefreshBody>;
