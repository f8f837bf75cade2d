import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider } from '../../../protocol/http/auth';
import { perContext } from '../../cache/per-context';
import type { Config } from '../../config/config';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { FacebookVerifier, InstagramVerifier, SnapchatVerifier, TikTokVerifier, TwitterVerifier } from './access-token-verifiers';
import { OidcIdTokenVerifier, type IdTokenVerifier } from './id-token-verifier';

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** A provider is on only when its audience (client ids) is configured: otherwise any app's token would pass. */
export function buildVerifiers(config: Config, now: () => number = Date.now): Map<OAuthProvider, IdTokenVerifier> {
  const out = new Map<OAuthProvider, IdTokenVerifier>();
  const google = list(config.GOOGLE_CLIENT_IDS);
  if (google.length > 0) {
    out.set(
      'google',
      new OidcIdTokenVerifier({
        provider: 'google',
        audiences: google,
        issuers: list(config.GOOGLE_ISSUERS),
        jwksUrl: config.GOOGLE_JWKS_URL,
      }),
    );
  }
  const apple = list(config.APPLE_CLIENT_IDS);
  if (apple.length > 0) {
    out.set(
      'apple',
      new OidcIdTokenVerifier({ provider: 'apple', audiences: apple, issuers: list(config.APPLE_ISSUERS), jwksUrl: config.APPLE_JWKS_URL }),
    );
  }
  // The others are on once their app credentials are set (config.ts refuses half a pair).
  const common = { timeoutMs: config.OAUTH_TIMEOUT_MS, now };
  if (config.FACEBOOK_APP_ID && config.FACEBOOK_APP_SECRET) {
    out.set(
      'facebook',
      new FacebookVerifier({
        ...common,
        appId: config.FACEBOOK_APP_ID,
        appSecret: config.FACEBOOK_APP_SECRET,
        graphUrl: config.FACEBOOK_GRAPH_URL,
      }),
    );
  }
  if (config.INSTAGRAM_APP_ID && config.INSTAGRAM_APP_SECRET) {
    out.set(
      'instagram',
      new InstagramVerifier({
        ...common,
        appId: config.INSTAGRAM_APP_ID,
        appSecret: config.INSTAGRAM_APP_SECRET,
        graphUrl: config.INSTAGRAM_GRAPH_URL,
      }),
    );
  }
  if (config.TIKTOK_CLIENT_KEY && config.TIKTOK_CLIENT_SECRET) {
    out.set(
      'tiktok',
      new TikTokVerifier({
        ...common,
        clientKey: config.TIKTOK_CLIENT_KEY,
        clientSecret: config.TIKTOK_CLIENT_SECRET,
        apiBase: config.TIKTOK_API_BASE,
      }),
    );
  }
  if (config.SNAPCHAT_CLIENT_ID && config.SNAPCHAT_CLIENT_SECRET) {
    out.set(
      'snapchat',
      new SnapchatVerifier({
        ...common,
        clientId: config.SNAPCHAT_CLIENT_ID,
        clientSecret: config.SNAPCHAT_CLIENT_SECRET,
        authUrl: config.SNAPCHAT_AUTH_URL,
        apiBase: config.SNAPCHAT_API_BASE,
      }),
    );
  }
  if (config.TWITTER_CLIENT_ID && config.TWITTER_CLIENT_SECRET) {
    out.set(
      'twitter',
      new TwitterVerifier({
        ...common,
        clientId: config.TWITTER_CLIENT_ID,
        clientSecret: config.TWITTER_CLIENT_SECRET,
        apiBase: config.TWITTER_API_BASE,
      }),
    );
  }
  return out;
}

const verifiers = perContext((ctx) => buildVerifiers(ctx.config, ctx.now));

/** Providers this server accepts sign-in with. */
export function enabledProviders(ctx: AppContext): OAuthProvider[] {
  return [...verifiers(ctx).keys()];
}

export function verifierFor(ctx: AppContext, provider: OAuthProvider): IdTokenVerifier {
  const v = verifiers(ctx).get(provider);
  if (!v) throw new AppError(ErrorCode.NOT_FOUND, `Sign-in with ${provider} is not enabled on this server`);
  return v;
}
