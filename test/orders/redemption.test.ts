import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/auth';
import { isolationIds } from '../helpers/isolation';
import { nextEvent, emitOk } from '../helpers/socket';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { auditActions, buy, freshPair, orderRow, ordersWorld, payWithDouble, type OrdersWorld } from './fixtures';

let stripe: StripeDouble;
let nodeA: TestServer;
let nodeB: TestServer;
let world: OrdersWorld;
let w: OrdersWorld;

beforeAll(async () => {
  stripe = await new StripeDouble().start();
  const ids = isolationIds('orders_redeem');
  nodeA = await startTestServer({ ...stripe.env(), NODE_ID: 'a' }, { ids });
  nodeB = await startTestServer({ ...stripe.env(), NODE_ID: 'b' }, { ids });
  world = await ordersWorld(nodeA);
});
beforeEach(async () => {
  w = await freshPair(nodeA, world);
});
afterAll(async () => {
  await nodeB?.close();
  await nodeA?.close();
  await stripe?.stop();
});

/** A paid, accepted treat: returns its QR code and ids. */
async function acceptedTreat() {
  const { order, payment } = await buy(nodeA, w);
  await payWithDouble(nodeA, stripe, payment.paymentIntentId);
  const res = await api(nodeA, w.recipient.token).post(`/api/orders/${order.id}/accept`);
  if (res.status !== 200) throw new Error(`accept failed ${res.status}`);
  return {
    orderId: order.id,
    paymentIntentId: payment.paymentIntentId,
    code: res.body.qrCode as string,
    redemptionId: res.body.redemption.id as string,
  };
}

describe('redeeming a QR code', () => {
  it('two tablets on two nodes scanning one code at once: one holds it, the other hears who and when', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await acceptedTreat();
      const [a, b] = await Promise.all([
        api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code }),
        api(nodeB, w.staff2.token).post('/api/redemptions/scan', { code: t.code }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 409]);
      const [won, lost] = a.status === 200 ? [a, b] : [b, a];
      const winnerId = a.status === 200 ? w.staff.id : w.staff2.id;
      expect(won.body.redemption).toMatchObject({ status: 'SCANNED', bartenderId: winnerId });
      expect(won.body.order.items[0].menuItemId).toBe(w.menuItemId);
      expect(lost.body.error.code).toBe('CONFLICT');
      expect(lost.body.error.details).toMatchObject({ status: 'SCANNED', bartenderId: winnerId, scannedAt: won.body.redemption.scannedAt });
      expect(lost.body.error.details.bartenderName).toEqual(expect.any(String));
      expect((await auditActions(nodeA, t.redemptionId)).filter((x) => x === 'redemption.scanned')).toHaveLength(1);
    }
  });

  it('staff of another venue, guests and unknown codes are refused', async () => {
    const t = await acceptedTreat();
    const other = await api(nodeA, w.otherStaff.token).post('/api/redemptions/scan', { code: t.code });
    expect(other.status).toBe(403);
    expect((await api(nodeA, w.recipient.token).post('/api/redemptions/scan', { code: t.code })).status).toBe(403);
    expect((await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: 'A'.repeat(43) })).status).toBe(404);
    expect((await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: 'short' })).status).toBe(400);
    expect((await orderRow(nodeA, t.orderId)).redemption?.status).toBe('PENDING');
  });

  it('only the bartender holding it confirms; the money is captured once, and the code is spent', async () => {
    const t = await acceptedTreat();
    const tablet = await nodeB.connect(w.staff.token);
    await emitOk(tablet, 'staff:join', { venueId: w.venueId });
    const recipientSock = await nodeB.connect(w.recipient.token);
    const scan = await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code });
    expect(scan.status).toBe(200);
    const byOther = await api(nodeB, w.staff2.token).post(`/api/redemptions/${t.redemptionId}/confirm`);
    expect(byOther.status).toBe(403);
    expect(byOther.body.error.details.bartenderId).toBe(w.staff.id);
    expect((await api(nodeA, w.otherStaff.token).post(`/api/redemptions/${t.redemptionId}/confirm`)).status).toBe(403);
    expect(stripe.captures.get(t.paymentIntentId)).toBeUndefined();

    const redeemedForRecipient = nextEvent(
      recipientSock,
      'order:updated',
      (m) => m.order.id === t.orderId && m.order.status === 'REDEEMED',
    );
    const redeemedOnTablet = nextEvent(tablet, 'order:updated', (m) => m.order.id === t.orderId && m.order.status === 'REDEEMED');
    // A double-tap on the tablet, reaching both nodes.
    const [c1, c2] = await Promise.all([
      api(nodeA, w.staff.token).post(`/api/redemptions/${t.redemptionId}/confirm`),
      api(nodeB, w.staff.token).post(`/api/redemptions/${t.redemptionId}/confirm`),
    ]);
    expect([c1.status, c2.status]).toContain(200);
    for (const c of [c1, c2]) expect([200, 409]).toContain(c.status);
    await redeemedForRecipient;
    await redeemedOnTablet;
    expect(stripe.captures.get(t.paymentIntentId)).toBe(1);
    expect(stripe.intent(t.paymentIntentId).status).toBe('succeeded');
    const row = await orderRow(nodeA, t.orderId);
    expect(row).toMatchObject({ status: 'REDEEMED', redemption: { status: 'REDEEMED', bartenderId: w.staff.id } });
    expect(row.capturedAt).not.toBeNull();
    expect(await auditActions(nodeA, t.orderId)).toContain('payment.captured');

    const rescan = await api(nodeB, w.staff2.token).post('/api/redemptions/scan', { code: t.code });
    expect(rescan.status).toBe(409);
    expect(rescan.body.error.details).toMatchObject({ status: 'REDEEMED', bartenderId: w.staff.id, redeemedAt: expect.any(String) });
  });

  it('a capture whose redeemed mark meets a busy database is marked again until the order says REDEEMED', async () => {
    const t = await acceptedTreat();
    expect((await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code })).status).toBe(200);
    // Another node holds the order's row lock for longer than one interactive transaction may last
    // (Prisma's 5 s), as a long webhook or expiry transaction could on a busy night: the first attempt
    // to mark the captured order redeemed times out.
    let locked!: () => void;
    const lockHeld = new Promise<void>((resolve) => (locked = resolve));
    const holder = nodeB.server.ctx.db.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM orders WHERE id = ${t.orderId} FOR UPDATE`;
        locked();
        await new Promise((resolve) => setTimeout(resolve, 6_500));
      },
      { timeout: 20_000 },
    );
    await lockHeld;
    const res = await api(nodeA, w.staff.token).post(`/api/redemptions/${t.redemptionId}/confirm`);
    await holder;
    expect(res.status).toBe(200);
    expect(stripe.captures.get(t.paymentIntentId)).toBe(1);
    const row = await orderRow(nodeA, t.orderId);
    expect(row).toMatchObject({ status: 'REDEEMED', redemption: { status: 'REDEEMED', bartenderId: w.staff.id } });
    expect(row.capturedAt).not.toBeNull();
    expect((await auditActions(nodeA, t.orderId)).filter((a) => a === 'payment.captured')).toHaveLength(1);
  }, 30_000);

  it('release puts the code back to PENDING for any bartender of the venue', async () => {
    const t = await acceptedTreat();
    await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code });
    expect((await api(nodeB, w.staff2.token).post(`/api/redemptions/${t.redemptionId}/release`)).status).toBe(403);
    const released = await api(nodeB, w.staff.token).post(`/api/redemptions/${t.redemptionId}/release`);
    expect(released.status).toBe(200);
    expect(released.body.redemption).toMatchObject({ status: 'PENDING', bartenderId: null, scannedAt: null });
    expect((await api(nodeB, w.staff.token).post(`/api/redemptions/${t.redemptionId}/release`)).status).toBe(409);
    const again = await api(nodeB, w.staff2.token).post('/api/redemptions/scan', { code: t.code });
    expect(again.status).toBe(200);
    expect(again.body.redemption.bartenderId).toBe(w.staff2.id);
    expect(await auditActions(nodeA, t.redemptionId)).toEqual(['redemption.scanned', 'redemption.released', 'redemption.scanned']);
  });

  it('a hold that lapsed at Stripe is a 402 at confirm, before anything is marked poured', async () => {
    const t = await acceptedTreat();
    await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code });
    stripe.cancelExternally(t.paymentIntentId);
    const res = await api(nodeA, w.staff.token).post(`/api/redemptions/${t.redemptionId}/confirm`);
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('PAYMENT_FAILED');
    expect((await orderRow(nodeA, t.orderId)).redemption?.status).toBe('SCANNED');
  });

  it('the recipient can get a fresh QR code; the old one stops working', async () => {
    const t = await acceptedTreat();
    const fresh = await api(nodeA, w.recipient.token).post(`/api/orders/${t.orderId}/qr`);
    expect(fresh.status).toBe(200);
    expect(fresh.body.qrCode).not.toBe(t.code);
    expect((await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: t.code })).status).toBe(404);
    expect((await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: fresh.body.qrCode })).status).toBe(200);
    expect((await api(nodeA, w.buyer.token).post(`/api/orders/${t.orderId}/qr`)).status).toBe(403);
  });
});
