import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api } from '../helpers/auth';
import { emitAck, emitOk, nextEvent } from '../helpers/socket';
import { StripeDouble } from '../helpers/stripe-double';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, makeFriends } from '../helpers/users';
import { auditActions, buy, freshPair, newKey, orderBody, orderRow, ordersWorld, payWithDouble, type OrdersWorld } from './fixtures';

let stripe: StripeDouble;
let ts: TestServer;
let world: OrdersWorld;
let w: OrdersWorld;

beforeAll(async () => {
  stripe = await new StripeDouble().start();
  ts = await startTestServer({ ...stripe.env(), MAX_PENDING_TREATS_PER_RECIPIENT: '3' }, { label: 'orders_http' });
  world = await ordersWorld(ts);
});
beforeEach(async () => {
  w = await freshPair(ts, world);
});
afterAll(async () => {
  await ts?.close();
  await stripe?.stop();
});

describe('buying a treat', () => {
  it('answers the order and a client secret, priced from the menu, and holds (not takes) the money', async () => {
    const res = await buy(ts, w);
    expect(res.order).toMatchObject({ status: 'PENDING', buyerId: w.buyer.id, recipientId: w.recipient.id, amountCents: w.menuPriceCents });
    expect(res.payment.provider).toBe('stripe');
    expect(res.payment.clientSecret).toMatch(/_secret_/);
    const pi = stripe.intent(res.payment.paymentIntentId);
    expect(pi).toMatchObject({ amount: w.menuPriceCents, capture_method: 'manual', metadata: { orderId: res.order.id } });
    expect(new Date(res.order.expiresAt).getTime() - new Date(res.order.createdAt).getTime()).toBeCloseTo(24 * 3600_000, -4);
    expect(await auditActions(ts, res.order.id)).toEqual(['order.created', 'payment.intent_created']);
  });

  it('a double-clicked buy charges once: the same key and body get the first answer again', async () => {
    const key = newKey();
    const before = stripe.createdCount;
    const first = await api(ts, w.buyer.token).post('/api/orders', orderBody(w), { 'Idempotency-Key': key });
    const second = await api(ts, w.buyer.token).post('/api/orders', orderBody(w), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(stripe.createdCount - before).toBe(1);
    expect(await ts.server.ctx.db.prisma.order.count({ where: { buyerId: w.buyer.id, idempotencyKey: key } })).toBe(1);
  });

  it('two concurrent creates with one key make one order and one PaymentIntent', async () => {
    const key = newKey();
    const before = stripe.createdCount;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(ts, w.buyer.token).post('/api/orders', orderBody(w, { message: 'cheers' }), { 'Idempotency-Key': key }),
      ),
    );
    const ok = results.filter((r) => r.status === 201);
    const busy = results.filter((r) => r.status === 409);
    expect(ok.length + busy.length).toBe(5);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) expect(r.body.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    const ids = new Set(ok.map((r) => r.body.order.id));
    expect(ids.size).toBe(1);
    expect(stripe.createdCount - before).toBe(1);
    // After the first finished, a retry is a replay of it.
    const again = await api(ts, w.buyer.token).post('/api/orders', orderBody(w, { message: 'cheers' }), { 'Idempotency-Key': key });
    expect(again.status).toBe(201);
    expect(again.body.order.id).toBe([...ids][0]);
  });

  it('the same key with a different body is 422 and creates nothing', async () => {
    const key = newKey();
    await api(ts, w.buyer.token).post('/api/orders', orderBody(w), { 'Idempotency-Key': key });
    const before = stripe.createdCount;
    const res = await api(ts, w.buyer.token).post('/api/orders', orderBody(w, { items: undefined, amountCents: 999 }), {
      'Idempotency-Key': key,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(stripe.createdCount).toBe(before);
  });

  it('no Idempotency-Key is 400', async () => {
    const res = await api(ts, w.buyer.token).post('/api/orders', orderBody(w));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION');
  });

  it('a first attempt that failed (Stripe down) can be retried with the same key and charges once', async () => {
    const key = newKey();
    // The SDK retries twice by itself: fail all three tries of the first request.
    stripe.failNext(/^POST \/v1\/payment_intents$/, 3);
    const failed = await api(ts, w.buyer.token).post('/api/orders', orderBody(w), { 'Idempotency-Key': key });
    expect(failed.status).toBe(503);
    const retried = await api(ts, w.buyer.token).post('/api/orders', orderBody(w), { 'Idempotency-Key': key });
    expect(retried.status).toBe(201);
    expect(await ts.server.ctx.db.prisma.order.count({ where: { buyerId: w.buyer.id, idempotencyKey: key } })).toBe(1);
    expect(stripe.intent(retried.body.payment.paymentIntentId).metadata.orderId).toBe(retried.body.order.id);
  });

  it('refuses bad bodies, strangers, blocked people and yourself, changing nothing', async () => {
    const before = await ts.server.ctx.db.prisma.order.count();
    const post = (body: unknown, token = w.buyer.token) => api(ts, token).post('/api/orders', body, { 'Idempotency-Key': newKey() });
    expect((await post({ ...orderBody(w), amountCents: 500 })).status).toBe(400); // items and amount
    expect((await post({ ...orderBody(w), items: [{ menuItemId: 'nope', quantity: 1 }] })).status).toBe(400);
    expect((await post(orderBody(w, { recipientId: w.buyer.id }))).status).toBe(400);
    const notFriend = await post(orderBody(w, { recipientId: w.stranger.id }));
    expect(notFriend.status).toBe(403);
    const blocker = await createUser(ts.server.ctx, 'Blocker');
    await makeFriends(ts.server.ctx, w.buyer.id, blocker.id);
    await ts.server.ctx.db.prisma.block.create({ data: { blockerId: blocker.id, blockedId: w.buyer.id } });
    const blocked = await post(orderBody(w, { recipientId: blocker.id }));
    // A block reads exactly like any other refusal: the blocked buyer must not learn of it (issue 15).
    expect(blocked.status).toBe(403);
    expect(blocked.body).toEqual(notFriend.body);
    expect(await ts.server.ctx.db.prisma.order.count()).toBe(before);
  });

  it('may treat a non-friend only when both are checked in at the venue and the recipient is visible and open to a treat', async () => {
    const guest = await createUser(ts.server.ctx, 'Guest');
    const venue = await ts.server.ctx.db.prisma.venue.findUniqueOrThrow({ where: { id: w.venueId } });
    const here = { venueId: w.venueId, lat: venue.latitude, lng: venue.longitude };
    const { presence, now } = ts.server.ctx;
    await presence.checkIn({ userId: guest.id, ...here, wantsToReceive: true, now: now() });
    const buy = (extra: Record<string, unknown> = {}) =>
      api(ts, w.buyer.token).post('/api/orders', orderBody(w, { recipientId: guest.id, ...extra }), { 'Idempotency-Key': newKey() });

    // The buyer is not at the venue: a stranger elsewhere cannot probe where people are.
    expect((await buy()).status).toBe(403);
    await presence.checkIn({ userId: w.buyer.id, ...here, now: now() });
    // A ghost is on no list, so a stranger cannot treat them either; the refusal reads the same.
    await presence.update(guest.id, { visible: false }, now());
    const ghost = await buy();
    expect(ghost.status).toBe(403);
    expect(ghost.body.error.code).toBe('FORBIDDEN');
    await presence.update(guest.id, { visible: true }, now());
    expect((await buy()).status).toBe(201);
    const elsewhere = await buy({ venueId: w.otherVenueId, items: undefined, amountCents: 800 });
    expect(elsewhere.status).toBe(403);
    await presence.leave(w.buyer.id, now());
  });

  it('limits how many treats wait for one recipient', async () => {
    const popular = await createUser(ts.server.ctx, 'Popular');
    const buyers = await Promise.all([0, 1, 2, 3].map((i) => createUser(ts.server.ctx, `Fan ${i}`)));
    for (const b of buyers) await makeFriends(ts.server.ctx, b.id, popular.id);
    const statuses: number[] = [];
    for (const b of buyers) {
      const r = await api(ts, b.token).post('/api/orders', orderBody(w, { recipientId: popular.id }), { 'Idempotency-Key': newKey() });
      statuses.push(r.status);
      if (r.status === 429) expect(r.body.error.code).toBe('LIMIT_REACHED');
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
  });
});

describe('answering a treat', () => {
  it('the recipient accepts a paid order and gets a single QR code; staff and both users are told', async () => {
    const [buyerSock, recipientSock, tablet] = await Promise.all([
      ts.connect(w.buyer.token),
      ts.connect(w.recipient.token),
      ts.connect(w.staff.token),
    ]);
    expect(await emitOk(tablet, 'staff:join', { venueId: w.venueId })).toEqual({ venueId: w.venueId });
    const { order, payment } = await buy(ts, w);
    const received = nextEvent(recipientSock, 'order:received', (m) => m.order.id === order.id);
    const paidOnTablet = nextEvent(tablet, 'order:paid', (m) => m.order.id === order.id);
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    expect((await received).order.status).toBe('PAID');
    expect((await paidOnTablet).order.amountCents).toBe(w.menuPriceCents);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
    const onTablet = nextEvent(tablet, 'redemption:new', (m) => m.order.id === order.id);
    const toBuyer = nextEvent(buyerSock, 'order:updated', (m) => m.order.id === order.id && m.order.status === 'ACCEPTED');
    const res = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    expect(res.status).toBe(200);
    expect((await onTablet).redemption.status).toBe('PENDING');
    expect((await toBuyer).redemption?.id).toBe(res.body.redemption.id);
    expect(res.body.order.status).toBe('ACCEPTED');
    expect(res.body.redemption.status).toBe('PENDING');
    expect(res.body.qrCode).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await orderRow(ts, order.id);
    expect(row.redemption?.qrCodeHash).not.toContain(res.body.qrCode);
    const twice = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('INVALID_TRANSITION');
  });

  it('only staff of the venue may join its staff room', async () => {
    const sock = await ts.connect(w.otherStaff.token);
    const ack = await emitAck(sock, 'staff:join', { venueId: w.venueId });
    expect(ack).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const anon = await ts.connect();
    expect(await emitAck(anon, 'staff:join', { venueId: w.venueId })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
  });

  it('an unpaid order cannot be accepted (no skipping PAID)', async () => {
    const { order } = await buy(ts, w);
    const res = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/accept`);
    expect(res.status).toBe(409);
    expect((await orderRow(ts, order.id)).status).toBe('PENDING');
  });

  it('only the recipient answers, only the buyer cancels; anyone else does not see the order', async () => {
    const { order, payment } = await buy(ts, w);
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    expect((await api(ts, w.buyer.token).post(`/api/orders/${order.id}/accept`)).status).toBe(403);
    expect((await api(ts, w.recipient.token).post(`/api/orders/${order.id}/cancel`)).status).toBe(403);
    expect((await api(ts, w.stranger.token).post(`/api/orders/${order.id}/accept`)).status).toBe(404);
    expect((await api(ts, w.stranger.token).post(`/api/orders/${order.id}/cancel`)).status).toBe(404);
    expect((await api(ts, w.stranger.token).get(`/api/orders/${order.id}`)).status).toBe(404);
    expect((await api(ts, w.staff.token).get(`/api/orders/${order.id}`)).status).toBe(200);
    expect((await orderRow(ts, order.id)).status).toBe('PAID');
  });

  it('rejecting releases the hold (the PaymentIntent is cancelled, never captured)', async () => {
    const { order, payment } = await buy(ts, w);
    await payWithDouble(ts, stripe, payment.paymentIntentId);
    const res = await api(ts, w.recipient.token).post(`/api/orders/${order.id}/reject`);
    expect(res.status).toBe(200);
    expect(res.body.order.status).toBe('REJECTED');
    expect(stripe.intent(payment.paymentIntentId).status).toBe('canceled');
    expect(stripe.captures.get(payment.paymentIntentId)).toBeUndefined();
    expect((await orderRow(ts, order.id)).releasedAt).not.toBeNull();
    expect(await auditActions(ts, order.id)).toEqual(expect.arrayContaining(['payment.authorized', 'order.rejected', 'payment.released']));
  });

  it('the buyer cancels before acceptance but not after', async () => {
    const a = await buy(ts, w);
    const cancelled = await api(ts, w.buyer.token).post(`/api/orders/${a.order.id}/cancel`);
    expect(cancelled.body.order.status).toBe('CANCELLED');
    expect(stripe.intent(a.payment.paymentIntentId).status).toBe('canceled');

    const b = await buy(ts, w);
    await payWithDouble(ts, stripe, b.payment.paymentIntentId);
    await api(ts, w.recipient.token).post(`/api/orders/${b.order.id}/accept`);
    const late = await api(ts, w.buyer.token).post(`/api/orders/${b.order.id}/cancel`);
    expect(late.status).toBe(409);
    expect((await orderRow(ts, b.order.id)).status).toBe('ACCEPTED');
    expect(stripe.intent(b.payment.paymentIntentId).status).toBe('requires_capture');
  });

  it('has no simulated-payment dev routes when real Stripe is configured', async () => {
    const { payment } = await buy(ts, w);
    expect((await api(ts).post(`/api/dev/payments/${payment.paymentIntentId}/succeed`)).status).toBe(404);
    expect(stripe.intent(payment.paymentIntentId).status).toBe('requires_payment_method');
  });

  it('lists my orders', async () => {
    await buy(ts, w);
    const res = await api(ts, w.recipient.token).get('/api/orders?role=recipient&limit=5');
    expect(res.status).toBe(200);
    expect(res.body.orders.length).toBeGreaterThan(0);
    for (const o of res.body.orders) expect(o.recipientId).toBe(w.recipient.id);
  });
});
