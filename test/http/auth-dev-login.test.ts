import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({}, { label: 'auth_dev' });
});
afterAll(() => ts?.close());

describe('POST /api/auth/dev-login', () => {
  it('creates the account on first sign-in and signs into the same one afterwards', async () => {
    const email = uniqueEmail('dev');
    const first = await signIn(ts, email, 'Dana');
    expect(first.user).toMatchObject({ email, displayName: 'Dana', providers: [] });
    expect(first.accessToken).toBeTruthy();
    expect(first.refreshToken).toBeTruthy();
    const again = await signIn(ts, email.toUpperCase());
    expect(again.user.id).toBe(first.user.id);
    expect(again.refreshToken).not.toBe(first.refreshToken);

    const me = await api(ts, first.accessToken).get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(first.user.id);
  });

  it('writes a sign-in audit row with the caller IP and user agent', async () => {
    const s = await signIn(ts, uniqueEmail('audited'));
    const rows = await ts.server.ctx.db.prisma.auditLog.findMany({ where: { userId: s.user.id, action: 'auth.sign_in' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ resourceType: 'user', resourceId: s.user.id, changes: { method: 'dev' } });
    expect(rows[0]!.ipAddress).toMatch(/127\.0\.0\.1/);
    expect(rows[0]!.userAgent).toBeTruthy();
  });

  it('refuses a malformed body with VALIDATION and names the field', async () => {
    const res = await api(ts).post('/api/auth/dev-login', { email: 'not-an-email' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION');
    expect(res.body.error.issues[0].path).toEqual(['email']);
    const extra = await api(ts).post('/api/auth/dev-login', { email: uniqueEmail(), admin: true });
    expect(extra.status).toBe(400);
    const broken = await api(ts).post('/api/auth/dev-login', '{"email":');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('VALIDATION');
  });
});

describe('access tokens on protected routes', () => {
  it('answers 401 without a token, with an expired one, a foreign one or an unsigned one', async () => {
    const s = await signIn(ts, uniqueEmail('tok'));
    const expired = ts.server.ctx.tokens.sign(s.user.id, -10);
    const foreign = jwt.sign({ typ: 'access' }, 'another-server-secret-0123456789abcdef', {
      algorithm: 'HS256',
      subject: s.user.id,
      issuer: 'treatme',
      audience: 'treatme-app',
      expiresIn: 600,
    });
    const unsigned = jwt.sign({ typ: 'access', sub: s.user.id, iss: 'treatme', aud: 'treatme-app' }, '', { algorithm: 'none' });
    for (const token of [undefined, expired, foreign, unsigned, 'garbage']) {
      const res = await api(ts, token).get('/api/me');
      expect(res.status, String(token)).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    const expiredRes = await api(ts, expired).get('/api/me');
    expect(expiredRes.body.error.message).toMatch(/expired/i);
  });
});

describe('dev-login outside dev mode', () => {
  it('does not exist: 404 like any unknown route', async () => {
    const prod = await startTestServer({ DEV_MODE: 'false', SEED_DEMO_DATA: 'false' }, { label: 'auth_prod' });
    try {
      const res = await api(prod).post('/api/auth/dev-login', { email: uniqueEmail() });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      const code = await api(prod).post('/api/auth/code/request', { channel: 'email', destination: uniqueEmail() });
      expect(code.status).toBe(202);
      expect(code.body.devCode).toBeUndefined();
    } finally {
      await prod.close();
    }
  });
});
