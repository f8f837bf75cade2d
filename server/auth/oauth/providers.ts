import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider } from '../../../protocol/http/auth';
import { AppError } from '../../errors';
import { FacebookVerifier, InstagramVerifier, SnapchatVerifier, TikTokVerifier, TwitterVerifier } from './access-token-verifiers';
import { OidcIdTokenVerifier, type IdTokenVerifier } from './id-token-verifier';

/** One provider's audience and keys; a provider whose settings are absent is off. */
export interface OidcClientSettings {
  clientIds: string[];
  issuers: string[];
  jwksUrl: string;
}

/** The sign-in providers the composition root turned on (a provider is on only when all its credentials are set). */
export interface SignInProviderSettings {
  timeoutMs: number;
  google?: OidcClientSettings;
  apple?: OidcClientSettings;
  facebook?: { appId: string; appSecret: string; graphUrl: string };
  instagram?: { appId: string; appSecret: string; graphUrl: string };
  tiktok?: { clientKey: string; clientSecret: string; apiBase: string };
  snapchat?: { clientId: string; clientSecret: string; authUrl: string; apiBase: string };
  twitter?: { clientId: string; clientSecret: string; apiBase: string };
}

function buildVerifiers(s: SignInProviderSettings, now: () => number): Map<OAuthProvider, IdTokenVerifier> {
  const out = new Map<OAuthProvider, IdTokenVerifier>();
  if (s.google)
    out.set(
      'google',
      new OidcIdTokenVerifier({ provider: 'google', audiences: s.google.clientIds, issuers: s.google.issuers, jwksUrl: s.google.jwksUrl }),
    );
  if (s.apple)
    out.set(
      'apple',
      new OidcIdTokenVerifier({ provider: 'apple', audiences: s.apple.clientIds, issuers: s.apple.issuers, jwksUrl: s.apple.jwksUrl }),
    );
  const common = { timeoutMs: s.timeoutMs, now };
  if (s.facebook) out.set('facebook', new FacebookVerifier({ ...common, ...s.facebook }));
  if (s.instagram) out.set('instagram', new InstagramVerifier({ ...common, ...s.instagram }));
  if (s.tiktok) out.set('tiktok', new TikTokVerifier({ ...common, ...s.tiktok }));
  if (s.snapchat) out.set('snapchat', new SnapchatVerifier({ ...common, ...s.snapchat }));
  if (s.twitter) out.set('twitter', new TwitterVerifier({ ...common, ...s.twitter }));
  return out;
}

/** The verifier of every sign-in provider this server accepts, built once by the composition root. */
export class SignInProviders {
  private readonly verifiers: Map<OAuthProvider, IdTokenVerifier>;

  constructor(settings: SignInProviderSettings, now: () => number) {
    this.verifiers = buildVerifiers(settings, now);
  }

  /** Providers this server accepts sign-in with. */
  enabled(): OAuthProvider[] {
    return [...this.verifiers.keys()];
  }

  verifierFor(provider: OAuthProvider): IdTokenVerifier {
    const v = this.verifiers.get(provider);
    if (!v) throw new AppError(ErrorCode.NOT_FOUND, `Sign-in with ${provider} is not enabled on this server`);
    return v;
  }
}
