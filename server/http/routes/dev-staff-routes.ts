import { Router } from 'express';
import type { DevStaffAccountsResponse } from '../../../protocol/http/staff';
import type { AppContext } from '../../context';
import { staffAccounts } from '../../demo/staff-accounts';

/** Dev mode only (like the dev sign-in it serves): the tablet lists these so nobody has to guess a slug. */
export function devStaffRoutes(ctx: Pick<AppContext, 'db'>): Router {
  const router = Router();
  router.get('/api/dev/staff-accounts', async (_req, res) => {
    const body: DevStaffAccountsResponse = { accounts: await staffAccounts(ctx.db.prisma) };
    res.json(body);
  });
  return router;
}
