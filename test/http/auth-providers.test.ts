import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuthProvider } from '../../protocol/http/auth';
import { providerColumn } from '../../server/auth/user-view';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { SocialDouble } from '../helpers/social-doubles';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
let social: SocialDouble;
let seq = 0;
const person = (name = 'Pat Social') => ({ userId: `${Date.now()}${++seq}`, name });

beforeAll(async () => {
  social = await new SocialDouble().start();
  ts = await startTestServer(
    { ...social.env(), RATE_LIMIT_AUTH_PER_MINUTE: '10000', OAUTH_TIMEOUT_MS: '400' },
    { label: 'auth_providers' },
  );
});
afterAll(async () => {
  await ts?.close();
  await social?.stop();
});

type Five = 'facebook' | 'instagram' | 'tiktok' | 'snapchat' | 'twitter';
/** The body the app sends for `provider`, as its SDK hands the credential over. */
function credential(provider: Five, who: { userId: string; name: string }, opts: { app?: 'ours' | 'other'; expired?: boolean } = {}) {
  if (provider === 'facebook' || provider === 'instagram') return { accessToken: social.accessToken(provider, who, opts) };
  return social.authCode(provider, who, opts);
}
const signInWith = (provider: OAuthProvider, body: unknown) => api(ts).post(`/api/auth/oauth/${provider}`, body);
const subjectOf = async (userId: string, provider: OAuthProvider) =>
  (await ts.server.ctx.db.prisma.user.findUnique({ where: { id: userId } }))?.[providerColumn[provider]];

describe.each(['facebook', 'instagram', 'tiktok', 'snapchat', 'twitter'] as const)('sign-in with %s', (provider) => {
  it('a valid credential creates an account with a session, and signs into it again', async () => {
    const who = person('Sam Social');
    const first = await signInWith(provider, credential(provider, who));
    expect(first.status).toBe(201);
    expect(first.body.user).toMatchObject({ displayName: 'Sam Social', providers: [provider] });
    expect((await api(ts, first.body.accessToken).get('/api/me')).status).toBe(200);
    const again = await signInWith(provider, credential(provider, who));
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(first.body.user.id);
    expect(await subjectOf(first.body.user.id, provider)).toEqual(expect.any(String));
  });

  it('forged, expired and other-app credentials are 401 with a reason, and create nobody', async () => {
    const who = person();
    const forged =
      provider === 'facebook' || provider === 'instagram'
        ? { accessToken: 'EAAforgedforgedforgedforged' }
        : { ...social.authCode(provider, who), code: 'code-forged-0000' };
    const cases = [
      ['forged', forged],
      ['expired', credential(provider, who, { expired: true })],
      ['other app', credential(provider, who, { app: 'other' })],
    ] as const;
    const before = await ts.server.ctx.db.prisma.user.count();
    for (const [label, body] of cases) {
      const res = await signInWith(provider, body);
      expect(res.status, label).toBe(401);
      expect(res.body.error.code, label).toBe('UNAUTHENTICATED');
      expect(res.body.error.details.reason, label).toEqual(expect.stringMatching(/^(invalid|expired|other_app)$/));
    }
    expect(await ts.server.ctx.db.prisma.user.count()).toBe(before);
  });

  it('the wrong kind of credential is a 400 naming the one it takes', async () => {
    const wrong = provider === 'facebook' || provider === 'instagram' ? { idToken: 'x'.repeat(40) } : { accessToken: 'x'.repeat(40) };
    const res = await signInWith(provider, wrong);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION');
  });
});

describe('refusal reasons where the provider tells them apart', () => {
  it('Facebook: expired and other-app tokens say so', async () => {
    const who = person();
    expect((await signInWith('facebook', credential('facebook', who, { expired: true }))).body.error.details.reason).toBe('expired');
    expect((await signInWith('facebook', credential('facebook', who, { app: 'other' }))).body.error.details.reason).toBe('other_app');
    expect((await signInWith('instagram', credential('instagram', who, { app: 'other' }))).body.error.details.reason).toBe('other_app');
    expect((await signInWith('tiktok', credential('tiktok', who, { expired: true }))).body.error.details.reason).toBe('expired');
  });

  it('a provider that does not answer is a 503, not a 401', async () => {
    social.hang = true;
    try {
      const res = await signInWith('twitter', credential('twitter', person()));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('UNAVAILABLE');
    } finally {
      social.hang = false;
    }
  });
});

describe('/api/me/providers', () => {
  it('lists, links and unlinks, never the last way in', async () => {
    // Signed up with TikTok only: no e-mail, no phone.
    const tt = await signInWith('tiktok', credential('tiktok', person()));
    expect(tt.status).toBe(201);
    const me = api(ts, tt.body.accessToken);
    const listed = await me.get('/api/me/providers');
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ linked: ['tiktok'], codes: { email: false, phone: false } });
    expect(listed.body.enabled).toEqual(expect.arrayContaining(['facebook', 'instagram', 'tiktok', 'snapchat', 'twitter']));

    const last = await me.delete('/api/me/providers/tiktok');
    expect(last.status).toBe(409);
    expect(last.body.error).toMatchObject({ code: 'CONFLICT', details: { reason: 'LAST_SIGN_IN_METHOD' } });

    const linked = await me.post('/api/me/providers/twitter', credential('twitter', person()));
    expect(linked.status).toBe(200);
    expect(linked.body.linked).toEqual(['tiktok', 'twitter']);
    const unlinked = await me.delete('/api/me/providers/tiktok');
    expect(unlinked.status).toBe(200);
    expect(unlinked.body.linked).toEqual(['twitter']);
    expect((await me.delete('/api/me/providers/tiktok')).status).toBe(404);
    expect((await me.delete('/api/me/providers/twitter')).status).toBe(409);
    expect(await ts.server.ctx.db.prisma.auditLog.count({ where: { userId: tt.body.user.id, action: 'auth.provider_unlinked' } })).toBe(1);
  });

  it('an e-mail account may unlink its only provider (a code still gets it in)', async () => {
    const s = await signIn(ts, uniqueEmail('mail'));
    const me = api(ts, s.accessToken);
    expect((await me.post('/api/me/providers/facebook', credential('facebook', person()))).body.linked).toEqual(['facebook']);
    const res = await me.delete('/api/me/providers/facebook');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ linked: [], codes: { email: true } });
  });

  it('two racing unlinks on an account with two providers leave one', async () => {
    const first = await signInWith('snapchat', credential('snapchat', person()));
    const me = api(ts, first.body.accessToken);
    expect((await me.post('/api/me/providers/instagram', credential('instagram', person()))).status).toBe(200);
    const [a, b] = await Promise.all([me.delete('/api/me/providers/snapchat'), me.delete('/api/me/providers/instagram')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await me.get('/api/me/providers')).body.linked).toHaveLength(1);
  });

  it('one provider id belongs to one user: linking it to a second account is 409', async () => {
    const who = person();
    const owner = await signIn(ts, uniqueEmail('owner'));
    expect((await api(ts, owner.accessToken).post('/api/me/providers/snapchat', credential('snapchat', who))).status).toBe(200);
    const other = await signIn(ts, uniqueEmail('other'));
    for (const path of ['/api/me/providers/snapchat', '/api/auth/link/snapchat']) {
      const res = await api(ts, other.accessToken).post(path, credential('snapchat', who));
      expect(res.status, path).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
    }
    // Signing in with it reaches the owner.
    const signed = await signInWith('snapchat', credential('snapchat', who));
    expect(signed.status).toBe(200);
    expect(signed.body.user.id).toBe(owner.user.id);
    expect((await api(ts).get('/api/me/providers')).status).toBe(401);
  });
});
