import { Router } from 'express';
import { IdParams } from '../../../protocol/http/common';
import { CreateOrderBody, IDEMPOTENCY_HEADER, ListOrdersQuery } from '../../../protocol/http/orders';
import { auditSource } from '../../audit/audit';
import type { AppContext } from '../../context';
import { requireIdempotencyKey } from '../../orders/idempotency/idempotency-middleware';
import type { Orders } from '../../orders/orders-module';
import { limitUserWrites } from '../../rate-limit/rate-limiter';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** Buying a treat and answering one. Money moves in server/orders; these only parse and authorize. */
export function orderRoutes(ctx: AppContext, orders: Orders): Router {
  const router = Router();
  const signedIn = [requireUser(ctx.tokens), limitUserWrites(ctx)];
  const idempotent = requireIdempotencyKey({
    store: orders.idempotency,
    scope: 'orders.create',
    now: ctx.now,
    logger: ctx.logger,
    userId: userIdOf,
  });

  router.post('/api/orders', ...signedIn, idempotent, async (req, res) => {
    const body = parseInput(CreateOrderBody, req.body, 'body');
    const key = req.get(IDEMPOTENCY_HEADER)!;
    res.status(201).json(await orders.orders.create(userIdOf(res), body, key, auditSource(req)));
  });
  router.get('/api/orders', ...signedIn, async (req, res) => {
    const q = parseInput(ListOrdersQuery, req.query, 'query');
    res.json({ orders: await orders.orders.list(userIdOf(res), q) });
  });
  router.get('/api/orders/:id', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'order id');
    res.json(await orders.orders.get(userIdOf(res), id));
  });
  router.post('/api/orders/:id/accept', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'order id');
    res.json(await orders.orders.accept(id, userIdOf(res), auditSource(req)));
  });
  router.post('/api/orders/:id/reject', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'order id');
    res.json(await orders.orders.reject(id, userIdOf(res), auditSource(req)));
  });
  router.post('/api/orders/:id/cancel', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'order id');
    res.json(await orders.orders.cancel(id, userIdOf(res), auditSource(req)));
  });
  router.post('/api/orders/:id/qr', ...signedIn, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'order id');
    res.json(await orders.orders.reissueQr(id, userIdOf(res), auditSource(req)));
  });
  return router;
}
