import { Router } from 'express';
import { DeleteAccountBody } from '../../../protocol/http/account';
import { auditSource } from '../../audit/audit';
import { deleteAccount, type AccountDeletionDeps } from '../../auth/account-deletion';
import type { AppContext } from '../../context';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** `DELETE /api/me`: the account's own deletion, confirmed with a fresh one-time code. */
export function accountRoutes(ctx: AppContext, deps: AccountDeletionDeps): Router {
  const router = Router();
  router.delete('/api/me', requireUser(ctx.tokens), limitUserWrites(ctx), async (req, res) => {
    const body = parseInput(DeleteAccountBody, req.body, 'body');
    res.json(await deleteAccount(ctx, deps, userIdOf(res), body, auditSource(req)));
  });
  return router;
}
