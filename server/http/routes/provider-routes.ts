import { Router } from 'express';
import { ProviderCredentialBody, ProviderParams } from '../../../protocol/http/auth';
import { auditSource } from '../../audit/audit';
import { linkIdentity } from '../../auth/oauth/oauth-sign-in';
import { listProviders, unlinkProvider } from '../../auth/oauth/provider-links';
import type { SignInProviders } from '../../auth/oauth/providers';
import type { AppContext } from '../../context';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** The signed-in user's sign-in providers: list, link, unlink. */
export function providerRoutes(ctx: AppContext, providers: SignInProviders): Router {
  const router = Router();
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];

  router.get('/api/me/providers', ...signedIn, async (_req, res) => {
    res.json(await listProviders(ctx, providers, userIdOf(res)));
  });
  router.post('/api/me/providers/:provider', ...signedIn, async (req, res) => {
    const { provider } = parseInput(ProviderParams, req.params, 'provider');
    const body = parseInput(ProviderCredentialBody, req.body, 'body');
    const identity = await providers.verifierFor(provider).verify(body);
    await linkIdentity(ctx, userIdOf(res), identity, auditSource(req));
    res.json(await listProviders(ctx, providers, userIdOf(res)));
  });
  router.delete('/api/me/providers/:provider', ...signedIn, async (req, res) => {
    const { provider } = parseInput(ProviderParams, req.params, 'provider');
    res.json(await unlinkProvider(ctx, providers, userIdOf(res), provider, auditSource(req)));
  });

  return router;
}
