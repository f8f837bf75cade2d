import http2 from 'node:http2';
import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import { retryAfterMs, type DeliveryResult, type PushProvider, type RenderedPush } from './push-provider';

export const APNS_HOSTS = { production: 'https://api.push.apple.com', sandbox: 'https://api.sandbox.push.apple.com' } as const;

export interface ApnsSettings {
  /** `https://api.push.apple.com`, the sandbox, or a test double (`http://` speaks h2c). */
  origin: string;
  /** Contents of the .p8 signing key (PKCS#8 PEM). */
  keyPem: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id. */
  topic: string;
  timeoutMs: number;
  now: () => number;
  /** Extra CA for a test double's self-signed certificate. */
  ca?: string;
}

// Apple refuses a provider token older than an hour and one renewed more often than every 20 minutes.
const TOKEN_MAX_AGE_MS = 50 * 60_000;

/** APNs reasons that mean the token will never be delivered to again. */
const DEAD_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic', 'ExpiredToken']);

/**
 * APNs over one long-lived HTTP/2 connection with token-based auth: an ES256 JWT signed with the .p8
 * key, shared by every request and renewed before its hour is up (or at once when Apple calls it expired).
 */
export class ApnsProvider implements PushProvider {
  readonly name = 'apns' as const;
  private session: http2.ClientHttp2Session | undefined;
  private key: Promise<CryptoKey> | undefined;
  private token: { value: string; issuedAt: number } | undefined;

  constructor(private readonly s: ApnsSettings) {}

  async providerToken(): Promise<string> {
    const now = this.s.now();
    if (this.token && now - this.token.issuedAt < TOKEN_MAX_AGE_MS) return this.token.value;
    this.key ??= importPKCS8(this.s.keyPem, 'ES256');
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.s.keyId })
      .setIssuer(this.s.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(await this.key);
    this.token = { value, issuedAt: now };
    return value;
  }

  async send(deviceToken: string, push: RenderedPush): Promise<DeliveryResult> {
    const jwt = await this.providerToken();
    const payload = JSON.stringify({ aps: { alert: { title: push.title, body: push.body }, sound: 'default' }, ...push.data });
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `/3/device/${encodeURIComponent(deviceToken)}`,
      authorization: `bearer ${jwt}`,
      'apns-topic': this.s.topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'content-type': 'application/json',
      ...(push.collapseId ? { 'apns-collapse-id': push.collapseId.slice(0, 64) } : {}),
    };
    let res: { status: number; body: string; headers: http2.IncomingHttpHeaders };
    try {
      res = await this.request(headers, payload);
    } catch (err) {
      return { outcome: 'retry', reason: err instanceof Error ? err.message : 'network error' };
    }
    if (res.status === 200) return { outcome: 'sent' };
    const reason = readReason(res.body);
    if (res.status === 410 || DEAD_REASONS.has(reason)) return { outcome: 'dead', reason: reason || `HTTP ${res.status}` };
    if (res.status === 403 && (reason === 'ExpiredProviderToken' || reason === 'InvalidProviderToken')) {
      this.token = undefined;
      return reason === 'ExpiredProviderToken' ? { outcome: 'retry', reason } : { outcome: 'failed', reason };
    }
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers['retry-after'], this.s.now());
      return { outcome: 'retry', reason: reason || `HTTP ${res.status}`, ...(after !== undefined ? { retryAfterMs: after } : {}) };
    }
    return { outcome: 'failed', reason: reason || `HTTP ${res.status}` };
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s && !s.closed) await new Promise<void>((r) => s.close(() => r()));
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = http2.connect(this.s.origin, this.s.ca ? { ca: this.s.ca } : {});
    // A dropped connection is replaced on the next send; its error is reported by the requests on it.
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    this.session = session;
    return session;
  }

  private request(
    headers: http2.OutgoingHttpHeaders,
    payload: string,
  ): Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const session = this.connect();
      const req = session.request(headers);
      let status = 0;
      let resHeaders: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.setTimeout(this.s.timeoutMs, () => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`APNs did not answer within ${this.s.timeoutMs} ms`));
      });
      req.on('response', (h) => {
        status = Number(h[':status']);
        resHeaders = h;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8'), headers: resHeaders }));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function readReason(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'reason' in parsed && typeof parsed.reason === 'string') return parsed.reason;
  } catch {
    // not JSON: no reason to report
  }
  return '';
}
