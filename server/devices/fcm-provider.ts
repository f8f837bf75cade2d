import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import { z } from 'zod';
import { retryAfterMs, type DeliveryResult, type PushProvider, type RenderedPush } from './push-provider';

/** The fields of a Google service-account key file that the JWT-bearer grant needs. */
export const ServiceAccountKey = z.object({
  project_id: z.string().min(1),
  private_key_id: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  client_email: z.string().min(3),
  token_uri: z.string().optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

export interface FcmSettings {
  account: ServiceAccountKey;
  /** `https://fcm.googleapis.com` or a test double. */
  apiBase: string;
  /** `https://oauth2.googleapis.com/token` or a test double. */
  tokenUrl: string;
  timeoutMs: number;
  now: () => number;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const FcmError = z.object({
  error: z.object({
    status: z.string().optional(),
    message: z.string().optional(),
    details: z.array(z.object({ errorCode: z.string().optional() }).loose()).optional(),
  }),
});

/**
 * FCM HTTP v1. The OAuth2 access token comes from Google's token endpoint through the JWT-bearer grant
 * (an RS256 assertion signed with the service account's key), is shared by every send and fetched again
 * only shortly before it expires. google-auth-library is not used: its token URL is fixed, so it could
 * not be tested against a local double, and its current major needs Node 22.
 */
export class FcmProvider implements PushProvider {
  readonly name = 'fcm' as const;
  private key: Promise<CryptoKey> | undefined;
  private access: { token: string; expiresAt: number } | undefined;
  private fetching: Promise<string> | undefined;
  /** Token-endpoint calls made, for the operator's log and the tests' proof of caching. */
  tokenFetches = 0;

  constructor(private readonly s: FcmSettings) {}

  async accessToken(): Promise<string> {
    if (this.access && this.s.now() < this.access.expiresAt) return this.access.token;
    // One fetch at a time: a burst of sends after expiry must not each ask Google for a token.
    this.fetching ??= this.fetchToken().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchToken(): Promise<string> {
    this.key ??= importPKCS8(this.s.account.private_key, 'RS256');
    const nowSec = Math.floor(this.s.now() / 1000);
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.s.account.private_key_id })
      .setIssuer(this.s.account.client_email)
      .setAudience(this.s.tokenUrl)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + 3600)
      .sign(await this.key);
    this.tokenFetches += 1;
    const res = await fetch(this.s.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      signal: AbortSignal.timeout(this.s.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`FCM token endpoint answered ${res.status}: ${text.slice(0, 200)}`);
    const parsed = TokenResponse.parse(JSON.parse(text));
    // A minute's margin so a token never expires between being read here and reaching FCM.
    this.access = { token: parsed.access_token, expiresAt: this.s.now() + (parsed.expires_in - 60) * 1000 };
    return parsed.access_token;
  }

  async send(deviceToken: string, push: RenderedPush): Promise<DeliveryResult> {
    let res: Response;
    let text: string;
    try {
      const token = await this.accessToken();
      const message = {
        token: deviceToken,
        notification: { title: push.title, body: push.body },
        data: push.data,
        android: { priority: 'high', ...(push.collapseId ? { collapse_key: push.collapseId } : {}) },
      };
      res = await fetch(`${this.s.apiBase}/v1/projects/${encodeURIComponent(this.s.account.project_id)}/messages:send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      return { outcome: 'retry', reason: err instanceof Error ? err.message : 'network error' };
    }
    if (res.ok) return { outcome: 'sent' };
    const err = readError(text);
    const codes = new Set([err.status, ...err.details]);
    if (codes.has('UNREGISTERED') || codes.has('SENDER_ID_MISMATCH'))
      return { outcome: 'dead', reason: codes.has('UNREGISTERED') ? 'UNREGISTERED' : 'SENDER_ID_MISMATCH' };
    if (res.status === 401) {
      this.access = undefined;
      return { outcome: 'retry', reason: 'UNAUTHENTICATED' };
    }
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers.get('retry-after'), this.s.now());
      return { outcome: 'retry', reason: err.status || `HTTP ${res.status}`, ...(after !== undefined ? { retryAfterMs: after } : {}) };
    }
    return { outcome: 'failed', reason: err.status || `HTTP ${res.status}` };
  }

  async close(): Promise<void> {}
}

function readError(text: string): { status: string; details: string[] } {
  try {
    const e = FcmError.parse(JSON.parse(text)).error;
    return { status: e.status ?? '', details: (e.details ?? []).map((d) => d.errorCode ?? '').filter(Boolean) };
  } catch {
    return { status: '', details: [] };
  }
}
