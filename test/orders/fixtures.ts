import { randomBytes } from 'node:crypto';
import type { CreateOrderResponse } from '../../protocol/http/orders';
import { api } from '../helpers/auth';
import type { StripeDouble } from '../helpers/stripe-double';
import type { TestServer } from '../helpers/test-server';
import { createUser, makeFriends, type TestUser } from '../helpers/users';

export interface Staff {
  id: string;
  token: string;
  venueId: string;
}

export interface OrdersWorld {
  buyer: TestUser;
  recipient: TestUser;
  stranger: TestUser;
  venueId: string;
  otherVenueId: string;
  menuItemId: string;
  menuPriceCents: number;
  /** The seeded bartender of `venueId`, and a second one we add. */
  staff: Staff;
  staff2: Staff;
  /** The seeded bartender of `otherVenueId`. */
  otherStaff: Staff;
}

export const newKey = () => `key-${randomBytes(8).toString('hex')}`;

/** Buyer and recipient are friends; two seeded venues with their bartenders (demo data). */
export async function ordersWorld(ts: TestServer): Promise<OrdersWorld> {
  const ctx = ts.server.ctx;
  const prisma = ctx.db.prisma;
  const [buyer, recipient, stranger] = [
    await createUser(ctx, 'Buyer'),
    await createUser(ctx, 'Recipient'),
    await createUser(ctx, 'Stranger'),
  ];
  await makeFriends(ctx, buyer.id, recipient.id);
  const venues = await prisma.venue.findMany({
    orderBy: { slug: 'asc' },
    take: 2,
    include: { menuItems: { where: { available: true }, take: 1 }, staff: true },
  });
  const [v1, v2] = venues;
  if (!v1 || !v2 || !v1.menuItems[0] || !v1.staff[0] || !v2.staff[0]) throw new Error('demo data missing venues, menus or staff');
  const second = await createUser(ctx, 'Second Bartender');
  await prisma.venueStaff.create({ data: { venueId: v1.id, userId: second.id } });
  const staffOf = (venueId: string, userId: string): Staff => ({ id: userId, token: ctx.tokens.sign(userId), venueId });
  return {
    buyer,
    recipient,
    stranger,
    venueId: v1.id,
    otherVenueId: v2.id,
    menuItemId: v1.menuItems[0].id,
    menuPriceCents: v1.menuItems[0].priceCents,
    staff: staffOf(v1.id, v1.staff[0].userId),
    staff2: staffOf(v1.id, second.id),
    otherStaff: staffOf(v2.id, v2.staff[0].userId),
  };
}

/** A new buyer and recipient (friends) in the same world, so per-person limits never leak between tests. */
export async function freshPair(ts: TestServer, w: OrdersWorld): Promise<OrdersWorld> {
  const ctx = ts.server.ctx;
  const buyer = await createUser(ctx, 'Buyer');
  const recipient = await createUser(ctx, 'Recipient');
  await makeFriends(ctx, buyer.id, recipient.id);
  return { ...w, buyer, recipient };
}

export function orderBody(w: OrdersWorld, extra: Record<string, unknown> = {}) {
  return {
    recipientId: w.recipient.id,
    venueId: w.venueId,
    paymentMethod: 'STRIPE',
    items: [{ menuItemId: w.menuItemId, quantity: 1 }],
    ...extra,
  };
}

export async function buy(ts: TestServer, w: OrdersWorld, body: Record<string, unknown> = orderBody(w), key = newKey()) {
  const res = await api(ts, w.buyer.token).post('/api/orders', body, { 'Idempotency-Key': key });
  if (res.status !== 201) throw new Error(`buy failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreateOrderResponse;
}

/** The customer authorizes on the double and Stripe's webhook reaches the server. */
export async function payWithDouble(ts: TestServer, stripe: StripeDouble, paymentIntentId: string) {
  stripe.authorize(paymentIntentId);
  const res = await stripe.deliver(ts.url, stripe.event('payment_intent.amount_capturable_updated', paymentIntentId));
  if (res.status !== 200) throw new Error(`webhook failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function orderRow(ts: TestServer, id: string) {
  return ts.server.ctx.db.prisma.order.findUniqueOrThrow({ where: { id }, include: { redemption: true } });
}

export async function auditActions(ts: TestServer, resourceId: string): Promise<string[]> {
  const rows = await ts.server.ctx.db.prisma.auditLog.findMany({ where: { resourceId }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => r.action);
}
