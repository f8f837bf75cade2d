import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider } from '../../../protocol/http/auth';
import { perContext } from '../../cache/per-context';
import type { Config } from '../../config/config';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { OidcIdTokenVerifier, type IdTokenVerifier } from './id-token-verifier';

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** A provider is on only when its audience (client ids) is configured: otherwise any app's token would pass. */
export function buildVerifiers(config: Config): Map<OAuthProvider, IdTokenVerifier> {
  const out = new Map<OAuthProvider, IdTokenVerifier>();
  const google = list(config.GOOGLE_CLIENT_IDS);
  if (google.length > 0) {
    out.set('google', new OidcIdTokenVerifier({ provider: 'google', audiences: google, issuers: list(config.GOOGLE_ISSUERS), jwksUrl: config.GOOGLE_JWKS_URL }));
  }
  const apple = list(config.APPLE_CLIENT_IDS);
  if (apple.length > 0) {
    out.set('apple', new OidcIdTokenVerifier({ provider: 'apple', audiences: apple, issuers: list(config.APPLE_ISSUERS), jwksUrl: config.APPLE_JWKS_URL }));
  }
  return out;
}

const verifiers = perContext((ctx) => buildVerifiers(ctx.config));

export function verifierFor(ctx: AppContext, provider: OAuthProvider): IdTokenVerifier {
  const v = verifiers(ctx).get(provider);
  if (!v) throw new AppError(ErrorCode.NOT_FOUND, `Sign-in with ${provider} is not enabled on this server`);
  return v;
}
