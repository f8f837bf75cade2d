import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider, ProviderCredentialBody } from '../../../protocol/http/auth';
import { AppError } from '../../errors';

/** What a provider vouches for about the person signing in. */
export interface VerifiedIdentity {
  provider: OAuthProvider;
  /** The provider's stable user id (`sub`). */
  subject: string;
  email: string | null;
  /** Only a provider-verified email may link to an existing account with that email. */
  emailVerified: boolean;
  name: string | null;
  picture: string | null;
}

/** One per provider; Google and Apple use OIDC ID tokens, the others their own APIs (access-token-verifiers.ts). */
export interface IdTokenVerifier {
  readonly provider: OAuthProvider;
  verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity>;
}

/** The credential field a provider takes, or a 400 naming it. */
export function credentialField<K extends 'idToken' | 'accessToken' | 'code'>(
  provider: OAuthProvider,
  credential: ProviderCredentialBody,
  field: K,
): Extract<ProviderCredentialBody, Record<K, string>> {
  if (!(field in credential))
    throw new AppError(ErrorCode.VALIDATION, `Sign-in with ${provider} takes \`${field}\``, { details: { expected: field } });
  return credential as Extract<ProviderCredentialBody, Record<K, string>>;
}

export interface OidcProviderSettings {
  provider: OAuthProvider;
  issuers: string[];
  audiences: string[];
  jwksUrl: string;
}

/**
 * Verifies an OIDC ID token against the provider's published keys: signature (RS256/ES256 only — an
 * HMAC or `none` token is refused before any key is looked at), issuer, audience and expiry. The key
 * set is fetched on first use and refreshed when a token names an unknown key id (key rotation).
 */
export class OidcIdTokenVerifier implements IdTokenVerifier {
  readonly provider: OAuthProvider;
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly settings: OidcProviderSettings) {
    this.provider = settings.provider;
    this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  }

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const { idToken } = credentialField(this.provider, credential, 'idToken');
    let payload;
    try {
      ({ payload } = await jwtVerify(idToken, this.keys, {
        issuer: this.settings.issuers,
        audience: this.settings.audiences,
        algorithms: ['RS256', 'ES256'],
        clockTolerance: 30,
      }));
    } catch (err) {
      // Anything that is not a JOSE verdict on the token is the key fetch failing: the provider, not the user, is at fault.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
        throw new AppError(ErrorCode.UNAVAILABLE, `Could not reach ${this.provider} to verify the token`, { cause: err });
      }
      const expired = err instanceof joseErrors.JWTExpired;
      throw new AppError(ErrorCode.UNAUTHENTICATED, expired ? `${this.provider} ID token expired` : `Invalid ${this.provider} ID token`, {
        cause: err,
      });
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0)
      throw new AppError(ErrorCode.UNAUTHENTICATED, `Invalid ${this.provider} ID token`);
    const email = typeof payload.email === 'string' ? payload.email.trim().toLowerCase() : null;
    // Apple sends email_verified as the string "true".
    const verified = payload.email_verified === true || payload.email_verified === 'true';
    return {
      provider: this.provider,
      subject: payload.sub,
      email,
      emailVerified: email !== null && verified,
      name: typeof payload.name === 'string' ? payload.name.slice(0, 60) : null,
      picture: typeof payload.picture === 'string' ? payload.picture : null,
    };
  }
}
