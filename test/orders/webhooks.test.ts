import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/auth';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { auditActions, buy, freshPair, orderRow, ordersWorld, payWithDouble, type OrdersWorld } from './fixtures';

let stripe: StripeDouble;
let ts: TestServer;
let world: OrdersWorld;
let w: OrdersWorld;

beforeAll(async () => {
  stripe = await new StripeDouble().start();
  ts = await startTestServer(stripe.env(), { label: 'orders_webhooks' });
  world = await ordersWorld(ts);
});
beforeEach(async () => {
  w = await freshPair(ts, world);
});
afterAll(async () => {
  await ts?.close();
  await stripe?.stop();
});

const processed = (id: string) => ts.server.ctx.db.prisma.processedWebhookEvent.count({ where: { id } });

describe('Stripe webhooks', () => {
  it('a replayed event is processed once', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.authorize(payment.paymentIntentId);
    const event = stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId);
    const first = await stripe.deliver(ts.url, event);
    const again = await stripe.deliver(ts.url, event);
    expect(first).toEqual({ status: 200, body: { received: true } });
    expect(again).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
    expect((await auditActions(ts, order.id)).filter((a) => a === 'payment.authorized')).toHaveLength(1);
    expect(await processed(event.id)).toBe(1);
  });

  it('the same event delivered several times at once is processed once', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.authorize(payment.paymentIntentId);
    const event = stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId);
    const results = await Promise.all(Array.from({ length: 6 }, () => stripe.deliver(ts.url, event)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => !(r.body as { duplicate?: boolean }).duplicate)).toHaveLength(1);
    expect((await auditActions(ts, order.id)).filter((a) => a === 'payment.authorized')).toHaveLength(1);
  });

  it('a late "created" after "authorized" does not move the order back', async () => {
    const { order, payment } = await buy(ts, w);
    const created = stripe.event('payment_intent.created', payment.paymentIntentId); // snapshot: requires_payment_method
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    expect((await stripe.deliver(ts.url, created)).status).toBe(200);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
  });

  it('"succeeded" arriving before "amount_capturable_updated" is judged by the PaymentIntent as it is now', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.authorize(payment.paymentIntentId);
    const authorized = stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId);
    // A stale event claiming a state the intent is not in changes nothing the PaymentIntent does not confirm.
    const staleSucceeded = stripe.event('payment_intent.succeeded', { ...stripe.intent(payment.paymentIntentId), status: 'succeeded' });
    await stripe.deliver(ts.url, staleSucceeded);
    const row = await orderRow(ts, order.id);
    expect(row.status).toBe('PAID');
    expect(row.capturedAt).toBeNull();
    await stripe.deliver(ts.url, authorized);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
    expect(stripe.captures.get(payment.paymentIntentId)).toBeUndefined();
  });

  it('"canceled" delivered after the drink was captured leaves it redeemed', async () => {
    const { order, payment } = await buy(ts, w);
    const earlyCanceled = stripe.event('payment_intent.canceled', { ...stripe.intent(payment.paymentIntentId), status: 'canceled' });
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    const accepted = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    const scan = await api(ts, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode });
    await api(ts, w.staff.token).post(`/api/redemptions/${scan.body.redemption.id}/confirm`);
    expect((await orderRow(ts, order.id)).status).toBe('REDEEMED');
    await stripe.deliver(ts.url, stripe.event('payment_intent.succeeded', payment.paymentIntentId));
    await stripe.deliver(ts.url, earlyCanceled);
    const row = await orderRow(ts, order.id);
    expect(row.status).toBe('REDEEMED');
    expect(row.redemption?.status).toBe('REDEEMED');
    expect(stripe.captures.get(payment.paymentIntentId)).toBe(1);
  });

  it('Stripe cancelling a held payment ends the order and its QR code', async () => {
    const { order, payment } = await buy(ts, w);
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    const accepted = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    stripe.cancelExternally(payment.paymentIntentId);
    await stripe.deliver(ts.url, stripe.event('payment_intent.canceled', payment.paymentIntentId));
    const row = await orderRow(ts, order.id);
    expect(row.status).toBe('CANCELLED');
    expect(row.redemption?.status).toBe('CANCELLED');
    const scan = await api(ts, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode });
    expect(scan.status).toBe(409);
  });

  it('an authorization that lands after the order ended is released', async () => {
    const { order, payment } = await buy(ts, w);
    // Stripe is unreachable while the buyer cancels: the order ends, the release is owed.
    stripe.failNext(/^GET /, 3); // the SDK tries three times
    const cancel = await api(ts, w.buyer.token).post(`/api/orders/${order.id}/cancel`);
    expect(cancel.body.order.status).toBe('CANCELLED');
    expect((await orderRow(ts, order.id)).releasedAt).toBeNull();
    // …and meanwhile the phone completed the payment.
    stripe.authorize(payment.paymentIntentId);
    await stripe.deliver(ts.url, stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId));
    const row = await orderRow(ts, order.id);
    expect(row.status).toBe('CANCELLED');
    expect(row.releasedAt).not.toBeNull();
    expect(stripe.intent(payment.paymentIntentId).status).toBe('canceled');
  });

  it('a declined attempt keeps the order payable', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.decline(payment.paymentIntentId);
    expect((await stripe.deliver(ts.url, stripe.event('payment_intent.payment_failed', payment.paymentIntentId))).status).toBe(200);
    expect((await orderRow(ts, order.id)).status).toBe('PENDING');
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
  });

  it('a bad signature is 400 and changes nothing', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.authorize(payment.paymentIntentId);
    const event = stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId);
    const forged = await stripe.deliver(ts.url, event, { secret: 'whsec_not_the_right_one' });
    expect(forged.status).toBe(400);
    const garbage = await stripe.deliver(ts.url, event, { signature: 't=1,v1=deadbeef' });
    expect(garbage.status).toBe(400);
    const tampered = await fetch(`${ts.url}/api/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.signature(JSON.stringify(event)) },
      body: JSON.stringify({ ...event, type: 'payment_intent.canceled' }),
    });
    expect(tampered.status).toBe(400);
    const unsigned = await fetch(`${ts.url}/api/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(unsigned.status).toBe(400);
    expect((await orderRow(ts, order.id)).status).toBe('PENDING');
    expect(await processed(event.id)).toBe(0);
  });

  it('a stale timestamp (older than 300 s) is rejected; a recent one is accepted', async () => {
    const { order, payment } = await buy(ts, w);
    stripe.authorize(payment.paymentIntentId);
    const event = stripe.event('payment_intent.amount_capturable_updated', payment.paymentIntentId);
    const nowSec = Math.floor(Date.now() / 1000);
    const stale = await stripe.deliver(ts.url, event, { timestamp: nowSec - 301 });
    expect(stale.status).toBe(400);
    expect((await orderRow(ts, order.id)).status).toBe('PENDING');
    const recent = await stripe.deliver(ts.url, event, { timestamp: nowSec - 200 });
    expect(recent.status).toBe(200);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
  });

  it('events for PaymentIntents that are not ours are acknowledged and ignored', async () => {
    const other = await fetch(`${stripe.url}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=1000&currency=usd',
    }).then((r) => r.json() as Promise<{ id: string }>);
    const res = await stripe.deliver(ts.url, stripe.event('payment_intent.created', other.id));
    expect(res).toMatchObject({ status: 200, body: { received: true, ignored: expect.any(String) } });
    const unrelated = await stripe.deliver(ts.url, {
      ...stripe.event('payment_intent.created', other.id),
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    } as never);
    expect(unrelated.status).toBe(200);
  });
});
