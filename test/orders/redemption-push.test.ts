import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderPushSender } from '../../server/devices/provider-push-sender';
import { api } from '../helpers/auth';
import { isolationIds } from '../helpers/isolation';
import { ApnsDouble, FcmDouble, type ReceivedPush } from '../helpers/push-doubles';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { buy, freshPair, ordersWorld, payWithDouble, type OrdersWorld } from './fixtures';

let stripe: StripeDouble;
let apns: ApnsDouble;
let fcm: FcmDouble;
let nodeA: TestServer;
let nodeB: TestServer;
let world: OrdersWorld;

beforeAll(async () => {
  stripe = await new StripeDouble().start();
  apns = await new ApnsDouble().start();
  fcm = await new FcmDouble().start();
  const ids = isolationIds('orders_push');
  const env = { ...stripe.env(), ...apns.env(), ...fcm.env(), PUSH_RETRY_BASE_MS: '20' };
  nodeA = await startTestServer({ ...env, NODE_ID: 'a' }, { ids });
  nodeB = await startTestServer({ ...env, NODE_ID: 'b' }, { ids });
  world = await ordersWorld(nodeA);
});
afterAll(async () => {
  await nodeB?.close();
  await nodeA?.close();
  await stripe?.stop();
  await apns?.stop();
  await fcm?.stop();
});

const drained = () => Promise.all([nodeA, nodeB].map((n) => (n.server.services.push as ProviderPushSender).queue.drained()));
/** Pushes are sent after the commit, off the request: wait until `n` have arrived, then a little longer for any extra. */
async function settle(count: () => number, n: number): Promise<void> {
  const t0 = Date.now();
  while (count() < n && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  await drained();
}
const kindOf = (r: ReceivedPush) => String(r.payload.kind ?? (r.payload.data as Record<string, string> | undefined)?.kind);
const orderOf = (r: ReceivedPush) => String(r.payload.orderId ?? (r.payload.data as Record<string, string> | undefined)?.orderId);

async function register(token: string, platform: 'IOS' | 'ANDROID', userToken: string, extra: Record<string, unknown> = {}) {
  const res = await api(nodeA, userToken).post('/api/devices', { token, platform, ...extra });
  expect(res.status).toBe(200);
  return token;
}
const ios = () => randomUUID().replace(/-/g, '').repeat(2);
const android = () => `fcm-${randomUUID()}`;

describe('pushes along a treat', () => {
  it('a redeemed drink produces exactly one push per registered device of each party', async () => {
    const w = await freshPair(nodeA, world);
    const buyerDevices = [
      await register(ios(), 'IOS', w.buyer.token),
      await register(android(), 'ANDROID', w.buyer.token, { locale: 'es' }),
    ];
    const recipientDevices = [
      await register(ios(), 'IOS', w.recipient.token, { locale: 'de-AT' }),
      await register(android(), 'ANDROID', w.recipient.token),
    ];
    const muted = await register(ios(), 'IOS', w.recipient.token, { pushEnabled: false });

    const { order, payment } = await buy(nodeA, w);
    await payWithDouble(nodeA, stripe, payment.paymentIntentId);
    const accepted = await api(nodeA, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    expect(accepted.status).toBe(200);
    const scan = await api(nodeA, w.staff.token).post('/api/redemptions/scan', { code: accepted.body.qrCode });
    expect(scan.status).toBe(200);
    const redemptionId = accepted.body.redemption.id as string;
    // A double-tap reaching both nodes: still one redemption, so one push per device.
    const confirms = await Promise.all([
      api(nodeA, w.staff.token).post(`/api/redemptions/${redemptionId}/confirm`),
      api(nodeB, w.staff.token).post(`/api/redemptions/${redemptionId}/confirm`),
    ]);
    expect(confirms.map((c) => c.status)).toContain(200);
    const ofOrder = () => [...apns.received, ...fcm.received].filter((r) => orderOf(r) === order.id);
    await settle(() => ofOrder().length, 8);

    const all = [...apns.received, ...fcm.received].filter((r) => orderOf(r) === order.id);
    const redeemed = all.filter((r) => kindOf(r) === 'order_redeemed');
    expect(redeemed.map((r) => r.token).sort()).toEqual([...buyerDevices, ...recipientDevices].sort());
    // The other steps: received → recipient's devices, accepted → buyer's; nothing reaches the muted phone.
    expect(
      all
        .filter((r) => kindOf(r) === 'order_received')
        .map((r) => r.token)
        .sort(),
    ).toEqual([...recipientDevices].sort());
    expect(
      all
        .filter((r) => kindOf(r) === 'order_accepted')
        .map((r) => r.token)
        .sort(),
    ).toEqual([...buyerDevices].sort());
    expect(all.filter((r) => r.token === muted)).toHaveLength(0);
    // Every push of one order collapses onto the previous one, in the device's language.
    expect(apns.to(recipientDevices[0]!).every((r) => r.headers['apns-collapse-id'] === order.id)).toBe(true);
    const german = apns.to(recipientDevices[0]!).find((r) => kindOf(r) === 'order_redeemed')!;
    expect((german.payload.aps as { alert: { title: string } }).alert.title).toBe('Prost!');
    const spanish = fcm.to(buyerDevices[1]!).find((r) => kindOf(r) === 'order_redeemed')!;
    expect((spanish.payload.notification as { title: string }).title).toBe('¡Salud!');
  });

  it('an accepted drink about to expire gets one "expires soon" push, even with two nodes running the job', async () => {
    const w = await freshPair(nodeA, world);
    const phone = await register(ios(), 'IOS', w.recipient.token);
    const { order, payment } = await buy(nodeA, w);
    await payWithDouble(nodeA, stripe, payment.paymentIntentId);
    expect((await api(nodeA, w.recipient.token).post(`/api/orders/${order.id}/accept`)).status).toBe(200);
    const row = await nodeA.server.ctx.db.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
    const soon = row.expiresAt.getTime() - 30 * 60_000;
    const early = await nodeA.server.services.orders.expiry.runOnce(row.expiresAt.getTime() - 3 * 3_600_000);
    expect(early.warned).not.toContain(order.id);
    const [a, b] = await Promise.all([
      nodeA.server.services.orders.expiry.runOnce(soon),
      nodeB.server.services.orders.expiry.runOnce(soon),
    ]);
    expect([...a.warned, ...b.warned].filter((id) => id === order.id)).toHaveLength(1);
    await settle(() => apns.to(phone).filter((r) => kindOf(r) === 'order_expiring').length, 1);
    expect(apns.to(phone).filter((r) => kindOf(r) === 'order_expiring' && orderOf(r) === order.id)).toHaveLength(1);
  });
});
