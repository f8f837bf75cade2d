import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { OAuthProvider, ProviderCredentialBody } from '../../../protocol/http/auth';
import { credentialField, type IdTokenVerifier, type VerifiedIdentity } from './id-token-verifier';
import { basicAuth, callProvider, refused } from './provider-http';

interface Common {
  timeoutMs: number;
  now: () => number;
}

const identity = (
  provider: OAuthProvider,
  subject: string,
  name: string | null | undefined,
  picture: string | null | undefined,
  email: string | null = null,
): VerifiedIdentity => ({
  provider,
  subject,
  email,
  // None of these providers vouches for an e-mail the way an OIDC `email_verified` does: never link by it.
  emailVerified: false,
  name: name ? name.slice(0, 60) : null,
  picture: picture ?? null,
});

/** Graph's error shape, shared by Facebook and Instagram: code 190 is a bad token, subcode 463 an expired one. */
const GraphError = z
  .object({
    error: z.object({ code: z.number().optional(), error_subcode: z.number().optional(), message: z.string().optional() }).loose(),
  })
  .loose();
function graphRefusal(provider: OAuthProvider, json: unknown) {
  const e = GraphError.safeParse(json);
  if (!e.success) return refused(provider, 'invalid');
  if (e.data.error.error_subcode === 463) return refused(provider, 'expired');
  // 100 with appsecret_proof: the token belongs to an app whose secret we do not hold.
  if (e.data.error.code === 100 && /appsecret_proof/i.test(e.data.error.message ?? '')) return refused(provider, 'other_app');
  return refused(provider, 'invalid');
}

const appSecretProof = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('hex');

const DebugToken = z.object({
  data: z
    .object({
      app_id: z.string().optional(),
      is_valid: z.boolean(),
      user_id: z.string().optional(),
      expires_at: z.number().optional(),
      error: z.object({ code: z.number().optional(), subcode: z.number().optional() }).loose().optional(),
    })
    .loose(),
});
const FacebookMe = z
  .object({
    id: z.string().min(1),
    name: z.string().optional(),
    email: z.string().optional(),
    picture: z
      .object({ data: z.object({ url: z.string() }).loose() })
      .loose()
      .optional(),
  })
  .loose();

/**
 * Facebook Login: `debug_token` (with the app's own access token) says whose token it is, for which
 * app, and until when; `/me` then reads the profile with the same token and an appsecret_proof.
 */
export class FacebookVerifier implements IdTokenVerifier {
  readonly provider = 'facebook' as const;
  constructor(private readonly s: Common & { appId: string; appSecret: string; graphUrl: string }) {}

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const { accessToken } = credentialField(this.provider, credential, 'accessToken');
    const debug = new URL(`${this.s.graphUrl}/debug_token`);
    debug.searchParams.set('input_token', accessToken);
    debug.searchParams.set('access_token', `${this.s.appId}|${this.s.appSecret}`);
    const d = await callProvider(this.provider, debug.href, {}, this.s.timeoutMs);
    const parsed = DebugToken.safeParse(d.json);
    if (d.status !== 200 || !parsed.success) throw graphRefusal(this.provider, d.json);
    const data = parsed.data.data;
    if (data.app_id !== undefined && data.app_id !== this.s.appId) throw refused(this.provider, 'other_app');
    if (!data.is_valid)
      throw refused(
        this.provider,
        data.error?.subcode === 463 || (data.expires_at !== undefined && data.expires_at !== 0 && data.expires_at * 1000 <= this.s.now())
          ? 'expired'
          : 'invalid',
      );
    if (!data.user_id || data.app_id === undefined) throw refused(this.provider, 'invalid');
    // 0 means a token that never expires (long-lived page tokens); a user token with a past expiry is refused even if Graph lags.
    if (data.expires_at && data.expires_at * 1000 <= this.s.now()) throw refused(this.provider, 'expired');

    const me = new URL(`${this.s.graphUrl}/me`);
    me.searchParams.set('fields', 'id,name,email,picture');
    me.searchParams.set('access_token', accessToken);
    me.searchParams.set('appsecret_proof', appSecretProof(accessToken, this.s.appSecret));
    const m = await callProvider(this.provider, me.href, {}, this.s.timeoutMs);
    const profile = FacebookMe.safeParse(m.json);
    if (m.status !== 200 || !profile.success) throw graphRefusal(this.provider, m.json);
    if (profile.data.id !== data.user_id) throw refused(this.provider, 'invalid');
    return identity(
      this.provider,
      profile.data.id,
      profile.data.name,
      profile.data.picture?.data.url,
      profile.data.email?.trim().toLowerCase() ?? null,
    );
  }
}

const InstagramMe = z
  .object({
    id: z.string().min(1),
    user_id: z.string().optional(),
    username: z.string().optional(),
    profile_picture_url: z.string().optional(),
  })
  .loose();

/**
 * Instagram Login: Graph `me` with the user's token and an appsecret_proof made with our app secret,
 * which Graph refuses for a token issued to any other app.
 */
export class InstagramVerifier implements IdTokenVerifier {
  readonly provider = 'instagram' as const;
  constructor(private readonly s: Common & { appId: string; appSecret: string; graphUrl: string }) {}

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const { accessToken } = credentialField(this.provider, credential, 'accessToken');
    const me = new URL(`${this.s.graphUrl}/me`);
    me.searchParams.set('fields', 'id,user_id,username,profile_picture_url');
    me.searchParams.set('access_token', accessToken);
    me.searchParams.set('appsecret_proof', appSecretProof(accessToken, this.s.appSecret));
    const m = await callProvider(this.provider, me.href, {}, this.s.timeoutMs);
    const profile = InstagramMe.safeParse(m.json);
    if (m.status !== 200 || !profile.success) throw graphRefusal(this.provider, m.json);
    return identity(this.provider, profile.data.user_id ?? profile.data.id, profile.data.username, profile.data.profile_picture_url);
  }
}

/** An OAuth 2.0 token endpoint's refusal: `invalid_grant` covers used, expired and other clients' codes. */
const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() }).loose();
function codeRefusal(provider: OAuthProvider, status: number, json: unknown) {
  const e = OAuthError.safeParse(json);
  if (e.success && e.data.error === 'invalid_client')
    return refused(provider, 'other_app', `This ${provider} code was issued to another app`);
  if (e.success && /expired/i.test(e.data.error_description ?? ''))
    return refused(provider, 'expired', `${provider} authorization code expired`);
  return refused(provider, status === 401 ? 'other_app' : 'invalid', `Invalid ${provider} authorization code`);
}

const codeForm = (c: { code: string; redirectUri: string; codeVerifier?: string | undefined }) => {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: c.redirectUri });
  if (c.codeVerifier) form.set('code_verifier', c.codeVerifier);
  return form;
};

const TikTokToken = z.object({ access_token: z.string().min(1), open_id: z.string().min(1) }).loose();
const TikTokUser = z
  .object({
    data: z
      .object({
        user: z.object({ open_id: z.string().min(1), display_name: z.string().optional(), avatar_url: z.string().optional() }).loose(),
      })
      .loose(),
  })
  .loose();

/** TikTok Login Kit: code → token at `/v2/oauth/token/` with our client key and secret, then `/v2/user/info/`. */
export class TikTokVerifier implements IdTokenVerifier {
  readonly provider = 'tiktok' as const;
  constructor(private readonly s: Common & { clientKey: string; clientSecret: string; apiBase: string }) {}

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const c = credentialField(this.provider, credential, 'code');
    const form = codeForm(c);
    form.set('client_key', this.s.clientKey);
    form.set('client_secret', this.s.clientSecret);
    const t = await callProvider(
      this.provider,
      `${this.s.apiBase}/v2/oauth/token/`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form },
      this.s.timeoutMs,
    );
    const token = TikTokToken.safeParse(t.json);
    if (t.status !== 200 || !token.success) throw codeRefusal(this.provider, t.status, t.json);
    const u = await callProvider(
      this.provider,
      `${this.s.apiBase}/v2/user/info/?fields=open_id,union_id,avatar_url,display_name`,
      { headers: { authorization: `Bearer ${token.data.access_token}` } },
      this.s.timeoutMs,
    );
    const user = TikTokUser.safeParse(u.json);
    if (u.status !== 200 || !user.success || user.data.data.user.open_id !== token.data.open_id) throw refused(this.provider, 'invalid');
    const p = user.data.data.user;
    return identity(this.provider, p.open_id, p.display_name, p.avatar_url);
  }
}

const BearerToken = z.object({ access_token: z.string().min(1) }).loose();
const SnapMe = z
  .object({
    data: z
      .object({
        me: z
          .object({
            externalId: z.string().min(1),
            displayName: z.string().optional(),
            bitmoji: z.object({ avatar: z.string().optional() }).loose().optional(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

/** Snapchat Login Kit: code → token at `/accounts/oauth2/token` (client basic auth), then the `me` GraphQL query. */
export class SnapchatVerifier implements IdTokenVerifier {
  readonly provider = 'snapchat' as const;
  constructor(private readonly s: Common & { clientId: string; clientSecret: string; authUrl: string; apiBase: string }) {}

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const c = credentialField(this.provider, credential, 'code');
    const t = await callProvider(
      this.provider,
      `${this.s.authUrl}/accounts/oauth2/token`,
      {
        method: 'POST',
        headers: { authorization: basicAuth(this.s.clientId, this.s.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: codeForm(c),
      },
      this.s.timeoutMs,
    );
    const token = BearerToken.safeParse(t.json);
    if (t.status !== 200 || !token.success) throw codeRefusal(this.provider, t.status, t.json);
    const m = await callProvider(
      this.provider,
      `${this.s.apiBase}/v1/me`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token.data.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{me{externalId displayName bitmoji{avatar}}}' }),
      },
      this.s.timeoutMs,
    );
    const me = SnapMe.safeParse(m.json);
    if (m.status !== 200 || !me.success) throw refused(this.provider, 'invalid');
    const p = me.data.data.me;
    return identity(this.provider, p.externalId, p.displayName, p.bitmoji?.avatar);
  }
}

const TwitterMe = z
  .object({
    data: z
      .object({
        id: z.string().min(1),
        name: z.string().optional(),
        username: z.string().optional(),
        profile_image_url: z.string().optional(),
      })
      .loose(),
  })
  .loose();

/** X (Twitter) OAuth 2.0: code → token at `/2/oauth2/token` (confidential client), then `/2/users/me`. */
export class TwitterVerifier implements IdTokenVerifier {
  readonly provider = 'twitter' as const;
  constructor(private readonly s: Common & { clientId: string; clientSecret: string; apiBase: string }) {}

  async verify(credential: ProviderCredentialBody): Promise<VerifiedIdentity> {
    const c = credentialField(this.provider, credential, 'code');
    const form = codeForm(c);
    form.set('client_id', this.s.clientId);
    const t = await callProvider(
      this.provider,
      `${this.s.apiBase}/2/oauth2/token`,
      {
        method: 'POST',
        headers: { authorization: basicAuth(this.s.clientId, this.s.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      },
      this.s.timeoutMs,
    );
    const token = BearerToken.safeParse(t.json);
    if (t.status !== 200 || !token.success) throw codeRefusal(this.provider, t.status, t.json);
    const m = await callProvider(
      this.provider,
      `${this.s.apiBase}/2/users/me?user.fields=profile_image_url`,
      { headers: { authorization: `Bearer ${token.data.access_token}` } },
      this.s.timeoutMs,
    );
    const me = TwitterMe.safeParse(m.json);
    if (m.status !== 200 || !me.success) throw refused(this.provider, 'invalid');
    const p = me.data.data;
    return identity(this.provider, p.id, p.name ?? p.username, p.profile_image_url);
  }
}
