import { Router } from 'express';
import { ErrorCode } from '../../../protocol/errors';
import {
  CodeRequestBody,
  CodeVerifyBody,
  DevLoginBody,
  ProviderCredentialBody,
  ProviderParams,
  RefreshBody,
  type SessionResponse,
} from '../../../protocol/http/auth';
import { auditSource } from '../../audit/audit';
import { requestCode, verifyCode, type OneTimeCodes } from '../../auth/codes/one-time-codes';
import { linkIdentity, userForIdentity } from '../../auth/oauth/oauth-sign-in';
import type { SignInProviders } from '../../auth/oauth/providers';
import { revokeAllForUser, revokeByToken, rotateRefreshToken } from '../../auth/refresh-tokens';
import { endLiveSessions } from '../../auth/session-revocation';
import { startSession, type SessionSettings } from '../../auth/sessions';
import { nameFromEmail, toUserView } from '../../auth/user-view';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { limitByIp, limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

export interface AuthRouteDeps {
  codes: OneTimeCodes;
  providers: SignInProviders;
  sessions: SessionSettings;
  /** Registers the dev-login route. */
  devMode: boolean;
}

export function authRoutes(ctx: AppContext, deps: AuthRouteDeps): Router {
  const { codes, providers, sessions } = deps;
  const router = Router();
  const perIp = limitByIp(ctx.limits.authIp);
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];

  // Not registered at all outside dev mode, so production answers it like any unknown route: 404.
  if (deps.devMode) {
    router.post('/api/auth/dev-login', async (req, res) => {
      const body = parseInput(DevLoginBody, req.body, 'body');
      const user = await ctx.db.prisma.user.upsert({
        where: { email: body.email },
        update: body.displayName ? { displayName: body.displayName } : {},
        create: { email: body.email, displayName: body.displayName ?? nameFromEmail(body.email) },
      });
      const session: SessionResponse = await startSession(ctx, sessions, user, 'dev', auditSource(req));
      res.json(session);
    });
  }

  router.post('/api/auth/code/request', perIp, async (req, res) => {
    const body = parseInput(CodeRequestBody, req.body, 'body');
    res.status(202).json(await requestCode(ctx, codes, body));
  });

  router.post('/api/auth/code/verify', perIp, async (req, res) => {
    const body = parseInput(CodeVerifyBody, req.body, 'body');
    const user = await verifyCode(ctx, codes, body);
    res.json(await startSession(ctx, sessions, user, body.channel === 'email' ? 'email_code' : 'phone_code', auditSource(req)));
  });

  router.post('/api/auth/oauth/:provider', perIp, async (req, res) => {
    const { provider } = parseInput(ProviderParams, req.params, 'provider');
    const body = parseInput(ProviderCredentialBody, req.body, 'body');
    const identity = await providers.verifierFor(provider).verify(body);
    const { user, created } = await userForIdentity(ctx, identity, body.displayName, auditSource(req));
    res.status(created ? 201 : 200).json(await startSession(ctx, sessions, user, `oauth:${provider}`, auditSource(req), { created }));
  });

  router.post('/api/auth/link/:provider', ...signedIn, async (req, res) => {
    const { provider } = parseInput(ProviderParams, req.params, 'provider');
    const body = parseInput(ProviderCredentialBody, req.body, 'body');
    const identity = await providers.verifierFor(provider).verify(body);
    const user = await linkIdentity(ctx, userIdOf(res), identity, auditSource(req));
    res.json({ user: toUserView(user) });
  });

  // Refresh and logout are not IP-limited: a 256-bit token cannot be guessed, and a venue's wifi puts
  // hundreds of phones behind one address.
  router.post('/api/auth/refresh', async (req, res) => {
    const body = parseInput(RefreshBody, req.body, 'body');
    const { userId, refreshToken } = await rotateRefreshToken(ctx, body.refreshToken, auditSource(req));
    const user = await ctx.db.prisma.user.findUnique({ where: { id: userId } });
    if (!user) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
    const session: SessionResponse = {
      accessToken: ctx.tokens.sign(userId),
      refreshToken,
      expiresIn: sessions.accessTokenTtlSeconds,
      user: toUserView(user),
    };
    res.json(session);
  });

  // Logout needs only the refresh token: an app whose access token already expired can still sign out.
  router.post('/api/auth/logout', async (req, res) => {
    const body = parseInput(RefreshBody, req.body, 'body');
    await revokeByToken(ctx, body.refreshToken, auditSource(req));
    res.status(204).end();
  });

  router.post('/api/auth/logout-all', ...signedIn, async (req, res) => {
    const revoked = await revokeAllForUser(ctx, userIdOf(res), auditSource(req));
    // Refresh tokens alone would leave every access token and socket working until it expires.
    await endLiveSessions(ctx, userIdOf(res));
    res.json({ revoked });
  });

  router.get('/api/me', requireUser(ctx.tokens), async (_req, res) => {
    const user = await ctx.db.prisma.user.findUnique({ where: { id: userIdOf(res) } });
    if (!user) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
    res.json({ user: toUserView(user) });
  });

  return router;
}
