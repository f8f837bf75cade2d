import { Router, type Request } from 'express';
import Stripe from 'stripe';
import { z } from 'zod';
import { ErrorCode } from '../../../protocol/errors';
import type { DevPaymentResponse } from '../../../protocol/http/orders';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import type { SimulatedGateway } from '../../orders/payments/simulated-gateway';
import { PaymentError } from '../../orders/payments/payment-gateway';
import { parseInput } from '../validate';
import { STRIPE_WEBHOOK_PATH } from './webhook-routes';

const Params = z.strictObject({
  paymentIntentId: z.string().regex(/^pi_[A-Za-z0-9_]{1,100}$/, 'must be a PaymentIntent id'),
  outcome: z.enum(['succeed', 'fail']),
});

/** Our own address as this request reached it, so the event goes back through this node's HTTP stack. */
function selfUrl(req: Request): string {
  const addr = req.socket.localAddress ?? '127.0.0.1';
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return `http://${host}:${req.socket.localPort}${STRIPE_WEBHOOK_PATH}`;
}

/**
 * Dev mode with simulated payments only: plays the customer's phone (authorize or decline) and then
 * Stripe (a signed webhook POSTed to our own `/api/webhooks/stripe`), so demos and load tests take
 * the production path from signature check to order update.
 */
export function devPaymentRoutes(ctx: AppContext, simulated: SimulatedGateway): Router {
  const router = Router();
  router.post('/api/dev/payments/:paymentIntentId/:outcome', async (req, res) => {
    const { paymentIntentId, outcome } = parseInput(Params, req.params, 'path');
    let event;
    try {
      event = await simulated.simulate(paymentIntentId, outcome);
    } catch (err) {
      if (err instanceof PaymentError && err.kind === 'not_found') throw new AppError(ErrorCode.NOT_FOUND, err.message);
      if (err instanceof PaymentError && err.kind === 'invalid_state') throw new AppError(ErrorCode.INVALID_TRANSITION, err.message);
      throw err;
    }
    const payload = JSON.stringify(event);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: simulated.webhookSecret });
    const delivery = await fetch(selfUrl(req), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
      body: payload,
    });
    await delivery.arrayBuffer();
    const body: DevPaymentResponse = {
      paymentIntentId,
      status: event.data.object.status,
      webhook: { eventId: event.id, type: event.type, status: delivery.status },
    };
    res.status(delivery.ok ? 200 : 502).json(body);
  });
  return router;
}
