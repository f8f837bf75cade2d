import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues, makeFriends } from '../helpers/users';

/** Default config apart from tight limits: no proxy is trusted, CORS_ORIGINS is `*`. */
let open: TestServer;
/** Behind a proxy on loopback, a listed browser origin, /metrics behind a token. */
let proxied: TestServer;
/** Production-like: not dev mode, /metrics on its own port. */
let prod: TestServer;

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const ALLOWED = 'https://app.treatme.example';

beforeAll(async () => {
  [open, proxied, prod] = await Promise.all([
    startTestServer({ RATE_LIMIT_AUTH_PER_MINUTE: '3' }, { label: 'hostile_open' }),
    startTestServer(
      {
        RATE_LIMIT_AUTH_PER_MINUTE: '3',
        TRUST_PROXY: 'loopback',
        CORS_ORIGINS: `${ALLOWED},https://tablet.treatme.example`,
        METRICS_TOKEN,
      },
      { label: 'hostile_proxied' },
    ),
    startTestServer({ DEV_MODE: 'false', METRICS_PORT: '0', SEED_DEMO_DATA: 'false' }, { label: 'hostile_prod' }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([open?.close(), proxied?.close(), prod?.close()]);
});

const codeRequest = (ts: TestServer, forwardedFor?: string) =>
  api(ts).post(
    '/api/auth/code/request',
    { channel: 'email', destination: uniqueEmail('xff') },
    forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {},
  );

describe('TRUST_PROXY', () => {
  it('off by default: a client rotating X-Forwarded-For is still one address, limited and audited as its TCP peer', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await codeRequest(open, `198.51.100.${i}`)).status);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);

    const session = await signIn(open, uniqueEmail('audited'));
    await api(open).post('/api/auth/logout', { refreshToken: session.refreshToken }, { 'X-Forwarded-For': '203.0.113.66' });
    const rows = await open.server.ctx.db.prisma.auditLog.findMany({ where: { userId: session.user.id, action: 'auth.token_revoked' } });
    expect(rows.map((r) => r.ipAddress)).toEqual(['127.0.0.1']);
  });

  it('with the proxy trusted, each forwarded client has its own budget and its own address in the audit log', async () => {
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await codeRequest(proxied, '198.51.100.7')).status);
    expect(a).toEqual([202, 202, 202, 429]);
    // Another client behind the same proxy is not limited by the first one's spending.
    expect((await codeRequest(proxied, '198.51.100.8')).status).toBe(202);
    // The address the trusted proxy appended is used, not one the client put in front of it.
    expect((await codeRequest(proxied, '10.9.9.9, 198.51.100.7')).status).toBe(429);

    const session = await signIn(proxied, uniqueEmail('audited'));
    await api(proxied).post('/api/auth/logout', { refreshToken: session.refreshToken }, { 'X-Forwarded-For': '203.0.113.66' });
    const rows = await proxied.server.ctx.db.prisma.auditLog.findMany({ where: { userId: session.user.id, action: 'auth.token_revoked' } });
    expect(rows.map((r) => r.ipAddress)).toEqual(['203.0.113.66']);
  });
});

describe('malformed requests answer 4xx with a code, never 500', () => {
  it.each(['%ff', '%', '%E0%A4%A', '%C0%AF', 'a%zzb'])('a path parameter %s is 400 VALIDATION', async (bad) => {
    const user = await createUser(open.server.ctx);
    for (const path of [
      `/api/venues/${bad}`,
      `/api/orders/${bad}`,
      `/api/groups/${bad}/members`,
      `/api/friends/${bad}`,
      `/api/devices/${bad}`,
    ]) {
      const method = path.startsWith('/api/friends') || path.startsWith('/api/devices') ? 'delete' : 'get';
      const res = await api(open, user.token)[method](path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe('VALIDATION');
    }
  });

  it('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE, before any route runs', async () => {
    const user = await createUser(open.server.ctx);
    const before = await open.server.ctx.db.prisma.group.count();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const res = await fetch(`${open.url}/api/groups`, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${user.token}` },
        body: 'name=mine',
      });
      expect(res.status, type).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    // A body without any content type is refused the same way.
    const bare = await fetch(`${open.url}/api/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body: new Uint8Array([123, 125]),
    });
    expect(bare.status).toBe(415);
    expect(await open.server.ctx.db.prisma.group.count()).toBe(before);
    // A bodiless POST (a browser sends Content-Length: 0 and no type: the tablet's confirm) is no body at
    // all: the route answers it, here with its own validation error rather than 415.
    const empty = await fetch(`${open.url}/api/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-length': '0' },
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('VALIDATION');
    // JSON with a charset, or +json, is fine.
    const ok = await fetch(`${open.url}/api/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${user.token}` },
      body: '{"name":"ok"}',
    });
    expect(ok.status).toBe(201);
  });

  it('a deeply nested order body (10 KB) is 400 before the idempotency key or the order is touched', async () => {
    const buyer = await createUser(open.server.ctx);
    const recipient = await createUser(open.server.ctx);
    await makeFriends(open.server.ctx, buyer.id, recipient.id);
    const venue = (await demoVenues(open.server.ctx))[0]!;
    const deep = '['.repeat(5_000) + ']'.repeat(5_000);
    const objDeep = '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000);
    for (const nested of [deep, objDeep]) {
      const body = `{"recipientId":"${recipient.id}","venueId":"${venue.id}","paymentMethod":"STRIPE","amountCents":500,"message":${nested}}`;
      const res = await api(open, buyer.token).post('/api/orders', body, { 'Idempotency-Key': 'deep-key-1' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
    expect(await open.server.ctx.db.prisma.order.count({ where: { buyerId: buyer.id } })).toBe(0);
    // The key was never claimed: a proper body with it goes through.
    const proper = await api(open, buyer.token).post(
      '/api/orders',
      { recipientId: recipient.id, venueId: venue.id, paymentMethod: 'STRIPE', amountCents: 500 },
      { 'Idempotency-Key': 'deep-key-1' },
    );
    expect(proper.status).toBe(201);
  });

  it('an oversized body is 413 PAYLOAD_TOO_LARGE, broken JSON 400 VALIDATION', async () => {
    const user = await createUser(open.server.ctx);
    const big = await api(open, user.token).post('/api/groups', JSON.stringify({ name: 'x'.repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const broken = await api(open, user.token).post('/api/groups', '{"name":');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('VALIDATION');
  });

  it('a compressed body that does not inflate is 400 VALIDATION, an unknown encoding 415 (found by the fuzz suite)', async () => {
    const user = await createUser(open.server.ctx);
    const before = await open.server.ctx.db.prisma.group.count();
    for (const body of [undefined, 'not gzip at all', new Uint8Array([0x1f, 0x8b, 0x08, 0x00])]) {
      const res = await fetch(`${open.url}/api/groups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${user.token}` },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION');
    }
    const bogus = await fetch(`${open.url}/api/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'bogus', authorization: `Bearer ${user.token}` },
      body: '{"name":"x"}',
    });
    expect(bogus.status).toBe(415);
    expect(((await bogus.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await open.server.ctx.db.prisma.group.count()).toBe(before);
  });

  it('unknown routes are 404 NOT_FOUND as JSON, for every method', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${open.url}/api/nope/${method}`, {
        method,
        ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }),
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });
});

describe('REST CORS per CORS_ORIGINS', () => {
  it('a listed origin gets its own origin back, with credentials, and a preflight answer', async () => {
    const res = await fetch(`${proxied.url}/api/venues?lat=40.7128&lng=-74.006`, { headers: { origin: ALLOWED } });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const pre = await fetch(`${proxied.url}/api/orders`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
  });

  it('an unlisted origin gets no CORS headers at all, so its browser refuses the answer', async () => {
    const res = await fetch(`${proxied.url}/api/venues?lat=40.7128&lng=-74.006`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await fetch(`${proxied.url}/api/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('`*` lets any origin read, never with credentials', async () => {
    const res = await fetch(`${open.url}/api/venues?lat=40.7128&lng=-74.006`, { headers: { origin: 'https://anyone.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('/metrics and source maps', () => {
  it('behind METRICS_TOKEN, /metrics needs the bearer token', async () => {
    expect((await fetch(`${proxied.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${proxied.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } })).status).toBe(401);
    const ok = await fetch(`${proxied.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('treatme_');
  });

  it('with METRICS_PORT, /metrics is only on that port; the public one answers 404', async () => {
    const pub = await fetch(`${prod.url}/metrics`);
    expect(pub.status).toBe(404);
    expect(((await pub.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const port = prod.server.metricsPort();
    expect(port).toBeGreaterThan(0);
    const priv = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(priv.status).toBe(200);
    expect(await priv.text()).toContain('treatme_');
    expect((await fetch(`http://127.0.0.1:${port}/api/venues`)).status).toBe(404);
  });

  it('source maps are served in dev mode only', async () => {
    expect((await fetch(`${open.url}/web/dist/map.js.map`)).status).toBe(200);
    expect((await fetch(`${prod.url}/web/dist/map.js`)).status).toBe(200);
    const map = await fetch(`${prod.url}/web/dist/map.js.map`);
    expect(map.status).toBe(404);
    expect((await fetch(`${prod.url}/web/dist/tablet.js.map`)).status).toBe(404);
  });
});
