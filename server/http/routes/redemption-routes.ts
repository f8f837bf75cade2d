import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { ScanBody } from '../../../protocol/http/orders';
import { auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import type { Orders } from '../../orders/orders-module';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** Bartender tablets: scan a QR code, then confirm the drink or release it. Staff of the venue only. */
export function redemptionRoutes(ctx: AppContext, orders: Orders): Router {
  const router = Router();
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];

  router.post('/api/redemptions/scan', ...signedIn, async (req, res) => {
    const { code } = parseInput(ScanBody, req.body, 'body');
    res.json(await orders.redemptions.scan(code, userIdOf(res), auditSource(req)));
  });
  router.post('/api/redemptions/:id/confirm', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'redemption id');
    res.json(await orders.redemptions.confirm(id, userIdOf(res), auditSource(req)));
  });
  router.post('/api/redemptions/:id/release', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'redemption id');
    res.json(await orders.redemptions.release(id, userIdOf(res), auditSource(req)));
  });
  return router;
}
