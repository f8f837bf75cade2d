import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startFakeOidc } from '../helpers/fake-oidc';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
let oidc: Awaited<ReturnType<typeof startFakeOidc>>;
let seq = 0;
const sub = () => `sub-${Date.now()}-${++seq}`;

beforeAll(async () => {
  oidc = await startFakeOidc();
  ts = await startTestServer(
    {
      GOOGLE_CLIENT_IDS: `other-client,${oidc.google.audience}`,
      GOOGLE_ISSUERS: oidc.google.issuer,
      GOOGLE_JWKS_URL: oidc.google.jwksUrl,
      APPLE_CLIENT_IDS: oidc.apple.audience,
      APPLE_ISSUERS: oidc.apple.issuer,
      APPLE_JWKS_URL: oidc.apple.jwksUrl,
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    },
    { label: 'auth_oauth' },
  );
});
afterAll(async () => {
  await ts?.close();
  await oidc?.close();
});

describe('sign-in with a Google or Apple ID token', () => {
  it('creates an account linked to the Google id, then signs into it again', async () => {
    const googleSub = sub();
    const email = uniqueEmail('g');
    const token = await oidc.google.idToken({ sub: googleSub, email, email_verified: true, name: 'Gina G' });
    const first = await api(ts).post('/api/auth/oauth/google', { idToken: token });
    expect(first.status).toBe(201);
    expect(first.body.user).toMatchObject({ email, emailVerified: true, displayName: 'Gina G', providers: ['google'] });
    const row = await ts.server.ctx.db.prisma.user.findUnique({ where: { id: first.body.user.id } });
    expect(row?.googleId).toBe(googleSub);

    const again = await api(ts).post('/api/auth/oauth/google', { idToken: await oidc.google.idToken({ sub: googleSub }) });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect((await api(ts, again.body.accessToken).get('/api/me')).status).toBe(200);
    const audit = await ts.server.ctx.db.prisma.auditLog.findMany({ where: { userId: first.body.user.id, action: 'auth.sign_in' } });
    expect(audit.map((a) => (a.changes as { method: string }).method)).toEqual(['oauth:google', 'oauth:google']);
  });

  it('links Apple to the existing account with the same verified email (Apple sends "true" as a string)', async () => {
    const email = uniqueEmail('a');
    const existing = await signIn(ts, email);
    const token = await oidc.apple.idToken({ sub: sub(), email, email_verified: 'true' });
    const res = await api(ts).post('/api/auth/oauth/apple', { idToken: token });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(existing.user.id);
    expect(res.body.user.providers).toEqual(['apple']);
  });

  it('never links through an unverified email: a separate account is created without that email', async () => {
    const email = uniqueEmail('victim');
    const victim = await signIn(ts, email);
    const token = await oidc.google.idToken({ sub: sub(), email, email_verified: false });
    const res = await api(ts).post('/api/auth/oauth/google', { idToken: token });
    expect(res.status).toBe(201);
    expect(res.body.user.id).not.toBe(victim.user.id);
    expect(res.body.user.email).toBeNull();
  });

  it('refuses tokens with the wrong audience, issuer, an expiry in the past, an unknown key or HMAC', async () => {
    const claims = { sub: sub() };
    const forged = [
      await oidc.google.idToken(claims, { audience: 'someone-elses-app' }),
      await oidc.google.idToken(claims, { issuer: 'https://evil.example' }),
      await oidc.google.idToken(claims, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
      await oidc.google.idToken(claims, { key: 'unpublished' }),
      await oidc.google.idToken(claims, { key: 'unpublished', kid: 'unknown-kid' }),
      jwt.sign({ ...claims, iss: oidc.google.issuer, aud: oidc.google.audience }, 'guessable-secret-guessable-secret', {
        algorithm: 'HS256',
        keyid: 'google-1',
      }),
      // An Apple token presented as Google: right key set for neither.
      await oidc.apple.idToken(claims),
    ];
    for (const [i, idToken] of forged.entries()) {
      const res = await api(ts).post('/api/auth/oauth/google', { idToken });
      expect(res.status, `forged token #${i}`).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    expect(await ts.server.ctx.db.prisma.user.count({ where: { googleId: claims.sub } })).toBe(0);
  });

  it('answers 404 for a provider that is not configured and 400 for an unknown one or a malformed body', async () => {
    const idToken = await oidc.google.idToken({ sub: sub() });
    expect((await api(ts).post('/api/auth/oauth/facebook', { idToken })).status).toBe(404);
    const unknown = await api(ts).post('/api/auth/oauth/myspace', { idToken });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION');
    expect((await api(ts).post('/api/auth/oauth/google', { token: idToken })).status).toBe(400);
  });
});

describe('linking a provider to the signed-in account', () => {
  it('links, and refuses a provider account that belongs to someone else', async () => {
    const me = await signIn(ts, uniqueEmail('linker'));
    const appleSub = sub();
    const res = await api(ts, me.accessToken).post('/api/auth/link/apple', { idToken: await oidc.apple.idToken({ sub: appleSub }) });
    expect(res.status).toBe(200);
    expect(res.body.user.providers).toEqual(['apple']);
    const linkedAudit = await ts.server.ctx.db.prisma.auditLog.count({ where: { userId: me.user.id, action: 'auth.provider_linked' } });
    expect(linkedAudit).toBe(1);

    const other = await signIn(ts, uniqueEmail('thief'));
    const steal = await api(ts, other.accessToken).post('/api/auth/link/apple', { idToken: await oidc.apple.idToken({ sub: appleSub }) });
    expect(steal.status).toBe(409);
    expect(steal.body.error.code).toBe('CONFLICT');

    const anonymous = await api(ts).post('/api/auth/link/apple', { idToken: await oidc.apple.idToken({ sub: sub() }) });
    expect(anonymous.status).toBe(401);
  });
});
