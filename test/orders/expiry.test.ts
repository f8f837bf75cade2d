import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/auth';
import { isolationIds } from '../helpers/isolation';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { auditActions, buy, freshPair, orderRow, ordersWorld, payWithDouble, type OrdersWorld } from './fixtures';

const HOUR = 3_600_000;
let stripe: StripeDouble;
let ts: TestServer;
let other: TestServer;
let world: OrdersWorld;
let w: OrdersWorld;
/** Added to the servers' clock: orders can be made "yesterday" without waiting 24 h. */
let offset = 0;
const clock = () => Date.now() + offset;

beforeAll(async () => {
  stripe = await new StripeDouble().start();
  const ids = isolationIds('orders_expiry');
  // A long sweep interval: the tests drive the job by hand.
  const env = { ...stripe.env(), ORDER_EXPIRY_SWEEP_INTERVAL_MS: '3600000' };
  ts = await startTestServer(env, { ids, now: clock });
  other = await startTestServer(env, { ids, now: clock });
  world = await ordersWorld(ts);
});
beforeEach(async () => {
  offset = 0;
  w = await freshPair(ts, world);
});
afterAll(async () => {
  await other?.close();
  await ts?.close();
  await stripe?.stop();
});

const expiry = (server = ts) => server.server.services.orders.expiry;

async function paidOrder() {
  const { order, payment } = await buy(ts, w);
  await payWithDouble(ts, stripe, payment.paymentIntentId);
  return { orderId: order.id, piId: payment.paymentIntentId };
}

describe('order expiry', () => {
  it('ends a paid order after 24 h and releases the hold, and leaves younger orders alone', async () => {
    const t = await paidOrder();
    const early = await expiry().runOnce(Date.now() + 23 * HOUR);
    expect(early.expired).not.toContain(t.orderId);
    expect((await orderRow(ts, t.orderId)).status).toBe('PAID');

    const run = await expiry().runOnce(Date.now() + 24 * HOUR + 60_000);
    expect(run.expired).toContain(t.orderId);
    const row = await orderRow(ts, t.orderId);
    expect(row.status).toBe('EXPIRED');
    expect(row.releasedAt).not.toBeNull();
    expect(stripe.intent(t.piId).status).toBe('canceled');
    expect(stripe.captures.get(t.piId)).toBeUndefined();
    expect(await auditActions(ts, t.orderId)).toEqual(expect.arrayContaining(['order.expired', 'payment.released']));
  });

  it('expires an accepted treat, cancels its QR code, and also ends never-paid orders', async () => {
    const t = await paidOrder();
    const accepted = await api(ts, w.recipient.token).post(`/api/orders/${t.orderId}/accept`);
    const unpaid = await buy(ts, w);
    await expiry().runOnce(Date.now() + 25 * HOUR);
    const row = await orderRow(ts, t.orderId);
    expect(row).toMatchObject({ status: 'EXPIRED', redemption: { status: 'CANCELLED' } });
    expect((await api(ts, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode })).status).toBe(409);
    expect((await orderRow(ts, unpaid.order.id)).status).toBe('EXPIRED');
    expect(stripe.intent(unpaid.payment.paymentIntentId).status).toBe('canceled');
  });

  it('refunds money that was captured for an order that then expired', async () => {
    const t = await paidOrder();
    // Captured outside the redemption flow (e.g. from the dashboard): expiry must refund, not cancel.
    await fetch(`${stripe.url}/v1/payment_intents/${t.piId}/capture`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stripe.secretKey}` },
    });
    await expiry().runOnce(Date.now() + 25 * HOUR);
    expect((await orderRow(ts, t.orderId)).status).toBe('EXPIRED');
    expect(stripe.refunds.get(t.piId)).toBe(1);
    await expiry().runOnce(Date.now() + 26 * HOUR);
    expect(stripe.refunds.get(t.piId)).toBe(1);
  });

  it('leaves a drink a bartender is holding right now, and ends it once that hold is stale', async () => {
    offset = -24 * HOUR + 60_000; // created 24 h minus a minute ago
    const t = await paidOrder();
    const accepted = await api(ts, w.recipient.token).post(`/api/orders/${t.orderId}/accept`);
    offset = 0;
    expect((await api(ts, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode })).status).toBe(200);
    await expiry().runOnce(Date.now() + 2 * 60_000);
    expect((await orderRow(ts, t.orderId)).status).toBe('ACCEPTED');
    await expiry().runOnce(Date.now() + 20 * 60_000);
    expect((await orderRow(ts, t.orderId)).status).toBe('EXPIRED');
    expect(stripe.intent(t.piId).status).toBe('canceled');
  });

  it('two nodes expiring at once end each order once and release it once', async () => {
    const orders = [await paidOrder(), await paidOrder(), await paidOrder()];
    const at = Date.now() + 25 * HOUR;
    const [a, b] = await Promise.all([expiry(ts).runOnce(at), expiry(other).runOnce(at)]);
    for (const t of orders) {
      expect([...a.expired, ...b.expired].filter((id) => id === t.orderId)).toHaveLength(1);
      expect((await auditActions(ts, t.orderId)).filter((x) => x === 'order.expired')).toHaveLength(1);
      expect((await auditActions(ts, t.orderId)).filter((x) => x === 'payment.released')).toHaveLength(1);
      expect(stripe.intent(t.piId).status).toBe('canceled');
    }
  });

  it('a release that failed (Stripe down) is retried by the next run', async () => {
    const t = await paidOrder();
    // Both attempts of this run (expiry, then the owed-release pass) see Stripe fail, three tries each.
    stripe.failNext(/^GET /, 6);
    await expiry().runOnce(Date.now() + 25 * HOUR);
    const row = await orderRow(ts, t.orderId);
    expect(row.status).toBe('EXPIRED');
    expect(row.releasedAt).toBeNull();
    expect(stripe.intent(t.piId).status).toBe('requires_capture');
    const next = await expiry().runOnce(Date.now() + 25 * HOUR);
    expect(next.released).toContain(t.orderId);
    expect(stripe.intent(t.piId).status).toBe('canceled');
  });
});
