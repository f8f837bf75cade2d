import { Router } from 'express';
import type { Orders } from '../../orders/orders-module';

export const STRIPE_WEBHOOK_PATH = '/api/webhooks/stripe';

/**
 * Stripe's deliveries. The signature covers the exact bytes Stripe sent, which the JSON parser keeps
 * in `req.rawBody` (http-app.ts); a re-serialised body would not verify. 400 on a bad signature
 * (Stripe stops retrying it), 5xx only when a retry could help.
 */
export function webhookRoutes(orders: Orders): Router {
  const router = Router();
  router.post(STRIPE_WEBHOOK_PATH, async (req, res) => {
    const event = orders.webhooks.verify(req.rawBody, req.get('stripe-signature'));
    res.json(await orders.webhooks.handle(event));
  });
  return router;
}
