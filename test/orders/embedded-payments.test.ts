import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { emitOk, nextEvent } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { makeFriends } from '../helpers/users';
import { isolationIds } from '../helpers/isolation';
import { buy, newKey, orderRow, ordersWorld } from './fixtures';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({}, { stores: 'embedded', label: 'orders_embedded' });
});
afterAll(async () => {
  await ts?.close();
});

describe('embedded mode: simulated payments through the signed webhook route', () => {
  it('buys, pays via the dev route, accepts, scans and confirms a drink end to end', async () => {
    const buyer = await signIn(ts, uniqueEmail('buyer'), 'Buyer');
    const recipient = await signIn(ts, uniqueEmail('recipient'), 'Recipient');
    await makeFriends(ts.server.ctx, buyer.user.id, recipient.user.id);
    const venue = await ts.server.ctx.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' }, include: { menuItems: { take: 2 } } });
    const staff = await signIn(ts, `staff+${venue.slug}@treatme.dev`);
    const tablet = await ts.connect(staff.accessToken);
    await emitOk(tablet, 'staff:join', { venueId: venue.id });

    const created = await api(ts, buyer.accessToken).post(
      '/api/orders',
      {
        recipientId: recipient.user.id,
        venueId: venue.id,
        paymentMethod: 'APPLE_PAY',
        items: venue.menuItems.map((m) => ({ menuItemId: m.id, quantity: 2 })),
      },
      { 'Idempotency-Key': newKey() },
    );
    expect(created.status).toBe(201);
    expect(created.body.payment.provider).toBe('simulated');
    expect(created.body.order.amountCents).toBe(venue.menuItems.reduce((s, m) => s + 2 * m.priceCents, 0));
    const piId: string = created.body.payment.paymentIntentId;
    const orderId: string = created.body.order.id;

    const declined = await api(ts).post(`/api/dev/payments/${piId}/fail`);
    expect(declined.body).toMatchObject({
      status: 'requires_payment_method',
      webhook: { type: 'payment_intent.payment_failed', status: 200 },
    });
    expect((await api(ts, buyer.accessToken).get(`/api/orders/${orderId}`)).body.order.status).toBe('PENDING');

    const paidOnTablet = nextEvent(tablet, 'order:paid', (m) => m.order.id === orderId);
    const paid = await api(ts).post(`/api/dev/payments/${piId}/succeed`);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      status: 'requires_capture',
      webhook: { type: 'payment_intent.amount_capturable_updated', status: 200 },
    });
    await paidOnTablet;
    expect((await api(ts).post(`/api/dev/payments/${piId}/succeed`)).status).toBe(409);

    const accepted = await api(ts, recipient.accessToken).post(`/api/orders/${orderId}/accept`);
    expect(accepted.status).toBe(200);
    const scan = await api(ts, staff.accessToken).post('/api/redemptions/scan', { code: accepted.body.qrCode });
    expect(scan.status).toBe(200);
    const confirm = await api(ts, staff.accessToken).post(`/api/redemptions/${scan.body.redemption.id}/confirm`);
    expect(confirm.status).toBe(200);
    expect(confirm.body.order.status).toBe('REDEEMED');
    const pi = await ts.server.ctx.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(pi.capturedAt).not.toBeNull();
    const actions = (
      await ts.server.ctx.db.prisma.auditLog.findMany({ where: { resourceId: orderId }, orderBy: { createdAt: 'asc' } })
    ).map((a) => a.action);
    expect(actions).toEqual([
      'order.created',
      'payment.intent_created',
      'payment.failed',
      'payment.authorized',
      'order.accepted',
      'payment.captured',
    ]);
  });

  it('the simulated webhook is signed: an unsigned copy is refused', async () => {
    const res = await fetch(`${ts.url}/api/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: JSON.stringify({ id: 'evt_x', type: 'payment_intent.succeeded', data: { object: { id: 'pi_x', object: 'payment_intent' } } }),
    });
    expect(res.status).toBe(400);
  });

  it('unknown PaymentIntents are 404 on the dev route', async () => {
    expect((await api(ts).post('/api/dev/payments/pi_sim_nope/succeed')).status).toBe(404);
    expect((await api(ts).post('/api/dev/payments/nope/succeed')).status).toBe(400);
  });
});

describe('simulated payments on a cluster without Stripe keys', () => {
  it('share PaymentIntents through Redis: paid via node B, captured on node A', async () => {
    const ids = isolationIds('orders_simcluster');
    const a = await startTestServer({ NODE_ID: 'a' }, { ids });
    const b = await startTestServer({ NODE_ID: 'b' }, { ids });
    try {
      const w = await ordersWorld(a);
      const { order, payment } = await buy(a, w);
      expect(payment.provider).toBe('simulated');
      expect((await api(b).post(`/api/dev/payments/${payment.paymentIntentId}/succeed`)).status).toBe(200);
      const accepted = await api(b, w.recipient.token).post(`/api/orders/${order.id}/accept`);
      const scan = await api(b, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode });
      const confirm = await api(a, w.staff.token).post(`/api/redemptions/${scan.body.redemption.id}/confirm`);
      expect(confirm.status).toBe(200);
      expect((await orderRow(a, order.id)).status).toBe('REDEEMED');
    } finally {
      await b.close();
      await a.close();
    }
  });
});
