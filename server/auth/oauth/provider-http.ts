import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider } from '../../../protocol/http/auth';
import { AppError } from '../../errors';

/** Why a provider refused a credential, as the client sees it in `error.details.reason`. */
export type Refusal = 'invalid' | 'expired' | 'other_app';

export function refused(provider: OAuthProvider, reason: Refusal, message?: string): AppError {
  const text =
    message ??
    (reason === 'expired'
      ? `${provider} token expired`
      : reason === 'other_app'
        ? `This ${provider} token was issued to another app`
        : `Invalid ${provider} token`);
  return new AppError(ErrorCode.UNAUTHENTICATED, text, { details: { reason, provider } });
}

export interface ProviderResponse {
  status: number;
  json: unknown;
}

/**
 * One call to a provider's API. A provider that is down, slow or answers 5xx is a 503 (retry later);
 * any answer from it, whatever the status, is handed back for the verifier to judge.
 */
export async function callProvider(provider: OAuthProvider, url: string, init: RequestInit, timeoutMs: number): Promise<ProviderResponse> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers }, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    throw new AppError(ErrorCode.UNAVAILABLE, `Could not reach ${provider} to verify the sign-in`, { cause: err, details: { provider } });
  }
  if (res.status >= 500 || res.status === 429)
    throw new AppError(ErrorCode.UNAVAILABLE, `${provider} could not verify the sign-in right now`, {
      details: { provider, status: res.status },
    });
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json };
}

export const basicAuth = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
