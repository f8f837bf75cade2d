import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer(
    { CODE_RESEND_SECONDS: '30', CODE_MAX_ATTEMPTS: '5', RATE_LIMIT_AUTH_PER_MINUTE: '10000' },
    { label: 'auth_codes' },
  );
});
afterAll(() => ts?.close());

const uniquePhone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

async function requestCode(channel: 'email' | 'phone', destination: string) {
  const res = await api(ts).post('/api/auth/code/request', { channel, destination });
  expect(res.status).toBe(202);
  expect(res.body.devCode).toMatch(/^\d{6}$/);
  return res.body.devCode as string;
}

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('one-time codes', () => {
  it('signs in with the emailed code, creating a verified account, and the code works once', async () => {
    const email = uniqueEmail('code');
    const code = await requestCode('email', email);
    const res = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: email, code, displayName: 'Codey' });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email, emailVerified: true, displayName: 'Codey' });
    const again = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: email, code });
    expect(again.status).toBe(401);
  });

  it('signs in by phone and marks the phone verified', async () => {
    const phone = uniquePhone();
    const code = await requestCode('phone', phone);
    const res = await api(ts).post('/api/auth/code/verify', { channel: 'phone', destination: phone, code });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ phone, phoneVerified: true });
  });

  it('stores only a hash of the code in Redis', async () => {
    const email = uniqueEmail('hash');
    const code = await requestCode('email', email);
    const redis = ts.server.ctx.redis!.main;
    const stored = await redis.hgetall(`otp:email:${email}`);
    expect(stored.h).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(code);
    expect(await redis.ttl(`otp:email:${email}`)).toBeGreaterThan(0);
  });

  it('burns the code after 5 wrong guesses, so the right code no longer works', async () => {
    const email = uniqueEmail('guess');
    const code = await requestCode('email', email);
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: email, code: wrongCode(code) });
      expect(res.status).toBe(401);
      messages.push(res.body.error.message);
    }
    expect(messages.at(-1)).toMatch(/too many/i);
    const late = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: email, code });
    expect(late.status).toBe(401);
  });

  it('throttles resends to one destination with 429 and Retry-After', async () => {
    const email = uniqueEmail('resend');
    await requestCode('email', email);
    const res = await api(ts).post('/api/auth/code/request', { channel: 'email', destination: email });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(30);
  });

  it('refuses malformed destinations and codes', async () => {
    for (const body of [
      { channel: 'email', destination: 'nope' },
      { channel: 'phone', destination: '555-1234' },
      { channel: 'carrier-pigeon', destination: 'x' },
      {},
    ]) {
      const res = await api(ts).post('/api/auth/code/request', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
    const bad = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: uniqueEmail(), code: '12ab56' });
    expect(bad.status).toBe(400);
  });
});

describe('refresh tokens', () => {
  async function session() {
    const email = uniqueEmail('refresh');
    const res = await api(ts).post('/api/auth/dev-login', { email });
    return res.body as { accessToken: string; refreshToken: string; user: { id: string } };
  }

  it('rotates: a refresh answers a new pair, and the new access token works', async () => {
    const s = await session();
    const r = await api(ts).post('/api/auth/refresh', { refreshToken: s.refreshToken });
    expect(r.status).toBe(200);
    expect(r.body.refreshToken).not.toBe(s.refreshToken);
    expect(r.body.user.id).toBe(s.user.id);
    expect((await api(ts, r.body.accessToken).get('/api/me')).status).toBe(200);
    const rows = await ts.server.ctx.db.prisma.refreshToken.findMany({ where: { userId: s.user.id } });
    expect(rows).toHaveLength(2);
    for (const row of rows) expect([s.refreshToken, r.body.refreshToken]).not.toContain(row.tokenHash);
  });

  it('revokes the whole family when a rotated token is presented again', async () => {
    const s = await session();
    const r1 = await api(ts).post('/api/auth/refresh', { refreshToken: s.refreshToken });
    expect(r1.status).toBe(200);
    const reuse = await api(ts).post('/api/auth/refresh', { refreshToken: s.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.message).toMatch(/reused/i);
    const legit = await api(ts).post('/api/auth/refresh', { refreshToken: r1.body.refreshToken });
    expect(legit.status).toBe(401);
    const audit = await ts.server.ctx.db.prisma.auditLog.findMany({ where: { userId: s.user.id, action: 'auth.token_reuse_detected' } });
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('lets exactly one of two simultaneous refreshes with one token win', async () => {
    const s = await session();
    const results = await Promise.all([0, 1].map(() => api(ts).post('/api/auth/refresh', { refreshToken: s.refreshToken })));
    expect(results.map((r) => r.status).filter((x) => x === 200).length).toBeLessThanOrEqual(1);
  });

  it('logout revokes the session; logout-all revokes every session', async () => {
    const s = await session();
    expect((await api(ts).post('/api/auth/logout', { refreshToken: s.refreshToken })).status).toBe(204);
    expect((await api(ts).post('/api/auth/refresh', { refreshToken: s.refreshToken })).status).toBe(401);
    expect((await api(ts).post('/api/auth/logout', { refreshToken: s.refreshToken })).status).toBe(204);

    const email = uniqueEmail('everywhere');
    const a = (await api(ts).post('/api/auth/dev-login', { email })).body;
    const b = (await api(ts).post('/api/auth/dev-login', { email })).body;
    const all = await api(ts, a.accessToken).post('/api/auth/logout-all');
    expect(all.status).toBe(200);
    expect(all.body.revoked).toBe(2);
    expect((await api(ts).post('/api/auth/refresh', { refreshToken: b.refreshToken })).status).toBe(401);
    const rows = await ts.server.ctx.db.prisma.auditLog.count({ where: { userId: a.user.id, action: 'auth.token_revoked' } });
    expect(rows).toBe(1);
  });

  it('refuses unknown, malformed and missing refresh tokens', async () => {
    expect((await api(ts).post('/api/auth/refresh', { refreshToken: 'x'.repeat(43) })).status).toBe(401);
    expect((await api(ts).post('/api/auth/refresh', { refreshToken: 12 })).status).toBe(400);
    expect((await api(ts).post('/api/auth/refresh', {})).status).toBe(400);
    expect((await api(ts).post('/api/auth/logout-all')).status).toBe(401);
  });
});
