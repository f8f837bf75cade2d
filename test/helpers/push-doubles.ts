import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';

/** What the double answers for one request to a token; the script is consumed front to back, the last step repeats. */
export type Step = { status: number; reason?: string; retryAfter?: string } | 'hang';

export interface ReceivedPush {
  token: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  /** The provider JWT's claims (APNs) or the access token used (FCM). */
  auth: string;
  at: number;
}

function scripted(scripts: Map<string, Step[]>, token: string): Step {
  const s = scripts.get(token);
  if (!s || s.length === 0) return { status: 200 };
  return s.length > 1 ? s.shift()! : s[0]!;
}

/**
 * APNs: an h2c HTTP/2 server on `POST /3/device/{token}` that checks the provider JWT (ES256, the key
 * id, team id as `iss`, an `iat` under an hour old) and the APNs headers, and answers like Apple (200
 * with `apns-id`, or a status with `{"reason": …}`).
 */
export class ApnsDouble {
  readonly keyId = 'ABC123DEFG';
  readonly teamId = 'TEAM123456';
  readonly topic = 'dev.treatme.app';
  readonly received: ReceivedPush[] = [];
  /** Every request, accepted or not, with the status it got. */
  readonly attempts: { token: string; status: number | 'hang' }[] = [];
  readonly scripts = new Map<string, Step[]>();
  private readonly publicKey: KeyObject;
  private readonly privatePem: string;
  private server: http2.Http2Server | undefined;
  private hung: http2.ServerHttp2Stream[] = [];
  origin = '';
  keyFile = '';

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.publicKey = pair.publicKey;
    this.privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  async start(): Promise<this> {
    const dir = await mkdtemp(path.join(tmpdir(), 'apns-'));
    this.keyFile = path.join(dir, `AuthKey_${this.keyId}.p8`);
    await writeFile(this.keyFile, this.privatePem);
    this.server = http2.createServer();
    this.server.on('stream', (stream, headers) => void this.handle(stream, headers));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  env(): Record<string, string> {
    return {
      APNS_KEY_FILE: this.keyFile,
      APNS_KEY_ID: this.keyId,
      APNS_TEAM_ID: this.teamId,
      APNS_TOPIC: this.topic,
      APNS_HOST: this.origin,
    };
  }

  private async handle(stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const answer = (status: number, reason?: string, extra: Record<string, string> = {}) => {
      if (stream.destroyed) return;
      stream.respond({ ':status': status, 'apns-id': 'double-id', ...extra });
      stream.end(reason ? JSON.stringify({ reason }) : undefined);
    };
    const m = /^\/3\/device\/([^/?]+)$/.exec(String(h[':path']));
    if (h[':method'] !== 'POST' || !m) return answer(404, 'BadPath');
    const token = decodeURIComponent(m[1]!);
    const auth = String(h.authorization ?? '');
    if (!auth.startsWith('bearer ')) return answer(403, 'MissingProviderToken');
    let claims;
    try {
      const { payload, protectedHeader } = await jwtVerify(auth.slice(7), this.publicKey, { algorithms: ['ES256'], issuer: this.teamId });
      if (protectedHeader.kid !== this.keyId) return answer(403, 'InvalidProviderToken');
      if (typeof payload.iat !== 'number' || payload.iat * 1000 < Date.now() - 3_600_000) return answer(403, 'ExpiredProviderToken');
      claims = JSON.stringify(payload);
    } catch {
      return answer(403, 'InvalidProviderToken');
    }
    if (h['apns-topic'] !== this.topic) return answer(400, 'TopicDisallowed');
    if (h['apns-push-type'] !== 'alert') return answer(400, 'InvalidPushType');
    if (!['5', '10'].includes(String(h['apns-priority']))) return answer(400, 'BadPriority');
    const collapse = h['apns-collapse-id'];
    if (typeof collapse === 'string' && Buffer.byteLength(collapse) > 64) return answer(400, 'BadCollapseId');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      if (!payload.aps) throw new Error('no aps');
    } catch {
      return answer(400, 'PayloadEmpty');
    }
    const step = scripted(this.scripts, token);
    this.attempts.push({ token, status: step === 'hang' ? 'hang' : step.status });
    if (step === 'hang') {
      this.hung.push(stream);
      return;
    }
    if (step.status === 200) {
      this.received.push({
        token,
        headers: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)])),
        payload,
        auth: claims,
        at: Date.now(),
      });
    }
    answer(step.status, step.reason, step.retryAfter ? { 'retry-after': step.retryAfter } : {});
  }

  to(token: string): ReceivedPush[] {
    return this.received.filter((r) => r.token === token);
  }

  async stop(): Promise<void> {
    for (const s of this.hung) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * FCM HTTP v1 and Google's OAuth2 token endpoint on one local HTTP server. The token endpoint takes
 * the JWT-bearer grant and checks the assertion (RS256 with the service account's key, `iss` its
 * e-mail, `aud` the token URL, the messaging scope); `messages:send` checks the bearer token it issued
 * and answers with FCM's error shape (`UNREGISTERED` in `details[].errorCode`).
 */
export class FcmDouble {
  readonly projectId = 'treatme-test';
  readonly clientEmail = 'push@treatme-test.iam.gserviceaccount.com';
  readonly received: ReceivedPush[] = [];
  readonly attempts: { token: string; status: number | 'hang' }[] = [];
  readonly scripts = new Map<string, Step[]>();
  /** Access tokens issued; each lives `tokenLifetimeSeconds`. */
  readonly issued: string[] = [];
  tokenLifetimeSeconds = 3599;
  private readonly publicKey: KeyObject;
  private readonly privatePem: string;
  private server: Server | undefined;
  private hung: import('node:http').ServerResponse[] = [];
  base = '';
  keyFile = '';

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.publicKey = pair.publicKey;
    this.privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  get tokenUrl(): string {
    return `${this.base}/token`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const dir = await mkdtemp(path.join(tmpdir(), 'fcm-'));
    this.keyFile = path.join(dir, 'service-account.json');
    await writeFile(
      this.keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: this.projectId,
        private_key_id: 'key-1',
        private_key: this.privatePem,
        client_email: this.clientEmail,
        token_uri: 'https://oauth2.googleapis.com/token',
      }),
    );
    return this;
  }

  env(): Record<string, string> {
    return { FCM_SERVICE_ACCOUNT_FILE: this.keyFile, FCM_API_BASE: this.base, FCM_TOKEN_URL: this.tokenUrl };
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = await readBody(req);
    const json = (status: number, obj: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(obj));
    };
    if (req.method === 'POST' && req.url === '/token') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type' });
      try {
        const { payload } = await jwtVerify(form.get('assertion') ?? '', this.publicKey, {
          algorithms: ['RS256'],
          issuer: this.clientEmail,
          audience: this.tokenUrl,
        });
        if (payload.scope !== 'https://www.googleapis.com/auth/firebase.messaging') return json(400, { error: 'invalid_scope' });
      } catch {
        return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      const token = `ya29.double-${this.issued.length + 1}`;
      this.issued.push(token);
      return json(200, { access_token: token, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' });
    }
    if (req.method === 'POST' && req.url === `/v1/projects/${this.projectId}/messages:send`) {
      const auth = String(req.headers.authorization ?? '');
      if (!this.issued.includes(auth.replace(/^Bearer /, '')))
        return json(401, { error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' } });
      const message = (JSON.parse(body) as { message: { token: string } & Record<string, unknown> }).message;
      const step = scripted(this.scripts, message.token);
      this.attempts.push({ token: message.token, status: step === 'hang' ? 'hang' : step.status });
      if (step === 'hang') {
        this.hung.push(res);
        return;
      }
      if (step.status === 200) {
        this.received.push({ token: message.token, headers: {}, payload: message, auth, at: Date.now() });
        return json(200, { name: `projects/${this.projectId}/messages/${this.received.length}` });
      }
      const status = step.reason ?? (step.status === 429 ? 'RESOURCE_EXHAUSTED' : step.status === 404 ? 'NOT_FOUND' : 'INTERNAL');
      const errorCode = step.reason === 'UNREGISTERED' ? 'UNREGISTERED' : step.status === 429 ? 'QUOTA_EXCEEDED' : 'INTERNAL';
      return json(
        step.status,
        {
          error: {
            code: step.status,
            status: step.reason === 'UNREGISTERED' ? 'NOT_FOUND' : status,
            message: 'double',
            details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
          },
        },
        step.retryAfter ? { 'retry-after': step.retryAfter } : {},
      );
    }
    json(404, { error: { code: 404, status: 'NOT_FOUND' } });
  }

  to(token: string): ReceivedPush[] {
    return this.received.filter((r) => r.token === token);
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
