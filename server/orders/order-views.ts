import type { OrderView, RedemptionView } from '../../protocol/events';
import type { Order, Redemption } from '../storage/prisma-types';

export function toOrderView(o: Order): OrderView {
  return {
    id: o.id,
    buyerId: o.buyerId,
    recipientId: o.recipientId,
    venueId: o.venueId,
    amountCents: o.amountCents,
    currency: o.currency,
    status: o.status,
    paymentMethod: o.paymentMethod,
    items: Array.isArray(o.items) ? (o.items as OrderView['items']) : null,
    message: o.message,
    createdAt: o.createdAt.toISOString(),
    expiresAt: o.expiresAt.toISOString(),
  };
}

export function toRedemptionView(r: Redemption): RedemptionView {
  return {
    id: r.id,
    orderId: r.orderId,
    status: r.status,
    scannedAt: r.scannedAt?.toISOString() ?? null,
    bartenderId: r.bartenderId,
  };
}
