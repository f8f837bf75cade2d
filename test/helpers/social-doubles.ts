import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Provider = 'facebook' | 'instagram' | 'tiktok' | 'snapchat' | 'twitter';
type App = 'ours' | 'other';
interface Person {
  userId: string;
  name: string;
}
interface Grant extends Person {
  provider: Provider;
  app: App;
  expiresAt: number;
}
interface CodeGrant extends Grant {
  redirectUri: string;
  challenge: string;
  used: boolean;
}

const APPS: Record<Provider, Record<App, { id: string; secret: string }>> = {
  facebook: { ours: { id: '100200300', secret: 'fb-secret-ours-0123' }, other: { id: '900800700', secret: 'fb-secret-other-0123' } },
  instagram: { ours: { id: '111222333', secret: 'ig-secret-ours-0123' }, other: { id: '999888777', secret: 'ig-secret-other-0123' } },
  tiktok: { ours: { id: 'awtreatme', secret: 'tt-secret-ours-0123' }, other: { id: 'awother', secret: 'tt-secret-other-0123' } },
  snapchat: {
    ours: { id: 'snap-treatme', secret: 'snap-secret-ours-0123' },
    other: { id: 'snap-other', secret: 'snap-secret-other-0123' },
  },
  twitter: { ours: { id: 'x-treatme', secret: 'x-secret-ours-0123' }, other: { id: 'x-other', secret: 'x-secret-other-0123' } },
};

const proof = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('hex');
const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');

/**
 * The five providers' sign-in APIs on one local server, each with its own wire shape: Facebook Graph
 * (`debug_token`, `/me` with appsecret_proof), Instagram Graph (`/me`), TikTok (`/v2/oauth/token/`,
 * `/v2/user/info/`), Snapchat (`/accounts/oauth2/token`, `/v1/me` GraphQL) and X (`/2/oauth2/token`,
 * `/2/users/me`). Every token and code belongs to one app, so another app's credential can be issued.
 */
export class SocialDouble {
  private readonly tokens = new Map<string, Grant>();
  private readonly codes = new Map<string, CodeGrant>();
  private server: Server | undefined;
  /** Requests to hang (a provider that stops answering). */
  hang = false;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  env(): Record<string, string> {
    return {
      FACEBOOK_APP_ID: APPS.facebook.ours.id,
      FACEBOOK_APP_SECRET: APPS.facebook.ours.secret,
      FACEBOOK_GRAPH_URL: `${this.base}/fb/v21.0`,
      INSTAGRAM_APP_ID: APPS.instagram.ours.id,
      INSTAGRAM_APP_SECRET: APPS.instagram.ours.secret,
      INSTAGRAM_GRAPH_URL: `${this.base}/ig`,
      TIKTOK_CLIENT_KEY: APPS.tiktok.ours.id,
      TIKTOK_CLIENT_SECRET: APPS.tiktok.ours.secret,
      TIKTOK_API_BASE: `${this.base}/tt`,
      SNAPCHAT_CLIENT_ID: APPS.snapchat.ours.id,
      SNAPCHAT_CLIENT_SECRET: APPS.snapchat.ours.secret,
      SNAPCHAT_AUTH_URL: `${this.base}/snap-auth`,
      SNAPCHAT_API_BASE: `${this.base}/snap`,
      TWITTER_CLIENT_ID: APPS.twitter.ours.id,
      TWITTER_CLIENT_SECRET: APPS.twitter.ours.secret,
      TWITTER_API_BASE: `${this.base}/x`,
    };
  }

  /** A user access token (Facebook, Instagram). */
  accessToken(provider: 'facebook' | 'instagram', person: Person, opts: { app?: App; expired?: boolean } = {}): string {
    const token = `${provider === 'facebook' ? 'EAA' : 'IGQ'}${randomBytes(24).toString('hex')}`;
    this.tokens.set(token, { ...person, provider, app: opts.app ?? 'ours', expiresAt: Date.now() + (opts.expired ? -60_000 : 3_600_000) });
    return token;
  }

  /** An authorization code as the provider's login hands it to the app, with the PKCE verifier. */
  authCode(provider: 'tiktok' | 'snapchat' | 'twitter', person: Person, opts: { app?: App; expired?: boolean } = {}) {
    const code = `code-${randomBytes(16).toString('hex')}`;
    const codeVerifier = randomBytes(32).toString('base64url');
    const redirectUri = 'https://treatme.app/auth/callback';
    this.codes.set(code, {
      ...person,
      provider,
      app: opts.app ?? 'ours',
      expiresAt: Date.now() + (opts.expired ? -60_000 : 600_000),
      redirectUri,
      challenge: s256(codeVerifier),
      used: false,
    });
    return { code, codeVerifier, redirectUri };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.hang) return; // left open until the server closes
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.base);
    const json = (status: number, obj: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    };
    const graphError = (code: number, message: string, subcode?: number) =>
      json(400, { error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'double' } });
    const p = url.pathname;

    // Facebook Graph
    if (req.method === 'GET' && p === '/fb/v21.0/debug_token') {
      const [appId, appSecret] = (url.searchParams.get('access_token') ?? '').split('|');
      const app = Object.values(APPS.facebook).find((a) => a.id === appId && a.secret === appSecret);
      if (!app) return graphError(190, 'Invalid OAuth access token signature.');
      const g = this.tokens.get(url.searchParams.get('input_token') ?? '');
      if (!g || g.provider !== 'facebook')
        return json(200, { data: { is_valid: false, error: { code: 190, message: 'Invalid OAuth access token.' }, scopes: [] } });
      const base = {
        app_id: APPS.facebook[g.app].id,
        type: 'USER',
        application: 'app',
        user_id: g.userId,
        expires_at: Math.floor(g.expiresAt / 1000),
        scopes: ['public_profile', 'email'],
      };
      if (g.expiresAt <= Date.now())
        return json(200, { data: { ...base, is_valid: false, error: { code: 190, subcode: 463, message: 'Session has expired.' } } });
      return json(200, { data: { ...base, is_valid: true, data_access_expires_at: base.expires_at + 86_400 } });
    }
    if (req.method === 'GET' && (p === '/fb/v21.0/me' || p === '/ig/me')) {
      const provider = p.startsWith('/fb') ? 'facebook' : 'instagram';
      const token = url.searchParams.get('access_token') ?? '';
      const g = this.tokens.get(token);
      if (!g || g.provider !== provider) return graphError(190, 'Invalid OAuth access token - Cannot parse access token');
      if (url.searchParams.get('appsecret_proof') !== proof(token, APPS[provider][g.app].secret))
        return graphError(100, 'Invalid appsecret_proof provided in the API argument');
      if (g.expiresAt <= Date.now()) return graphError(190, 'Error validating access token: Session has expired.', 463);
      if (provider === 'facebook')
        return json(200, { id: g.userId, name: g.name, picture: { data: { url: `https://fb.example/${g.userId}.jpg` } } });
      return json(200, { id: `ig-scoped-${g.userId}`, user_id: g.userId, username: g.name });
    }

    // OAuth 2.0 token endpoints (TikTok, Snapchat, X)
    const tokenPaths: Record<string, Provider> = {
      '/tt/v2/oauth/token/': 'tiktok',
      '/snap-auth/accounts/oauth2/token': 'snapchat',
      '/x/2/oauth2/token': 'twitter',
    };
    const tp = tokenPaths[p];
    if (req.method === 'POST' && tp) {
      const form = new URLSearchParams(body);
      let clientId: string | null;
      let secret: string | null;
      if (tp === 'tiktok') {
        clientId = form.get('client_key');
        secret = form.get('client_secret');
      } else {
        const [id, sec] = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
          .toString()
          .split(':');
        clientId = id ? decodeURIComponent(id) : null;
        secret = sec ? decodeURIComponent(sec) : null;
      }
      const client = Object.entries(APPS[tp]).find(([, a]) => a.id === clientId && a.secret === secret);
      if (!client) return json(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      const c = this.codes.get(form.get('code') ?? '');
      if (form.get('grant_type') !== 'authorization_code') return json(400, { error: 'unsupported_grant_type' });
      if (
        !c ||
        c.provider !== tp ||
        c.used ||
        c.app !== client[0] ||
        c.redirectUri !== form.get('redirect_uri') ||
        c.challenge !== s256(form.get('code_verifier') ?? '')
      ) {
        return json(400, { error: 'invalid_grant', error_description: 'Authorization code is invalid.' });
      }
      if (c.expiresAt <= Date.now()) return json(400, { error: 'invalid_grant', error_description: 'Authorization code is expired.' });
      c.used = true;
      const access = `at-${randomBytes(16).toString('hex')}`;
      this.tokens.set(access, { ...c, expiresAt: Date.now() + 3_600_000 });
      const common = {
        access_token: access,
        expires_in: 3600,
        token_type: 'Bearer',
        scope: 'user.info.basic',
        refresh_token: `rt-${randomBytes(8).toString('hex')}`,
      };
      return json(200, tp === 'tiktok' ? { ...common, open_id: `open-${c.userId}`, refresh_expires_in: 31_536_000 } : common);
    }

    // User info with a bearer token
    const bearer = this.tokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (req.method === 'GET' && p === '/tt/v2/user/info/') {
      if (!bearer || bearer.provider !== 'tiktok')
        return json(401, {
          data: {},
          error: { code: 'access_token_invalid', message: 'The access token is invalid or not found in the request.', log_id: 'double' },
        });
      return json(200, {
        data: {
          user: {
            open_id: `open-${bearer.userId}`,
            union_id: `union-${bearer.userId}`,
            display_name: bearer.name,
            avatar_url: 'https://tt.example/a.jpg',
          },
        },
        error: { code: 'ok', message: '', log_id: 'double' },
      });
    }
    if (req.method === 'POST' && p === '/snap/v1/me') {
      if (!bearer || bearer.provider !== 'snapchat') return json(401, { errors: [{ message: 'Unauthorized' }] });
      const q = (JSON.parse(body || '{}') as { query?: string }).query ?? '';
      if (!q.includes('externalId')) return json(400, { errors: [{ message: 'externalId not requested' }] });
      return json(200, {
        data: { me: { externalId: `snap-${bearer.userId}`, displayName: bearer.name, bitmoji: { avatar: 'https://snap.example/b.png' } } },
      });
    }
    if (req.method === 'GET' && p === '/x/2/users/me') {
      if (!bearer || bearer.provider !== 'twitter')
        return json(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
      return json(200, {
        data: {
          id: bearer.userId,
          name: bearer.name,
          username: bearer.name.toLowerCase().replace(/\W/g, ''),
          profile_image_url: 'https://x.example/p.jpg',
        },
      });
    }
    json(404, { error: 'not found' });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
