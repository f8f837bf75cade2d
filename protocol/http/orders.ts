import { z } from 'zod';
import type { OrderView, RedemptionView } from '../events';
import { Id } from '../schemas';

/**
 * HTTP bodies for buying drinks, redeeming them and driving simulated payments. Prices are always
 * computed by the server from the venue's menu; a client only names items and quantities (or, for a
 * free-form treat, an amount in cents).
 */
export const OrderPaymentMethod = z.enum(['STRIPE', 'APPLE_PAY', 'GOOGLE_PAY']);
export type OrderPaymentMethod = z.infer<typeof OrderPaymentMethod>;

/** Stripe refuses charges under 50 cents; the upper bound keeps a typo from becoming a $10,000 drink. */
export const MIN_ORDER_CENTS = 50;
export const MAX_ORDER_CENTS = 50_000;
export const MAX_ORDER_ITEMS = 20;

export const OrderItemInput = z.strictObject({
  menuItemId: Id,
  quantity: z.number().int().min(1).max(10),
});
export type OrderItemInput = z.infer<typeof OrderItemInput>;

export const CreateOrderBody = z
  .strictObject({
    recipientId: Id,
    venueId: Id,
    paymentMethod: OrderPaymentMethod,
    items: z.array(OrderItemInput).min(1).max(MAX_ORDER_ITEMS).optional(),
    amountCents: z.number().int().min(MIN_ORDER_CENTS).max(MAX_ORDER_CENTS).optional(),
    message: z.string().trim().max(280).optional(),
  })
  .refine((b) => (b.items === undefined) !== (b.amountCents === undefined), {
    message: 'give either items or amountCents, not both',
    path: ['items'],
  });
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

/** The `Idempotency-Key` header every POST /api/orders must carry. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IdempotencyKey = z
  .string()
  .min(8, 'at least 8 characters')
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export interface PaymentInfo {
  provider: 'stripe' | 'simulated';
  paymentIntentId: string;
  /** Hand to Stripe's PaymentSheet / Apple Pay / Google Pay to authorize the amount. */
  clientSecret: string | null;
}

export interface CreateOrderResponse {
  order: OrderView;
  payment: PaymentInfo;
}

export interface OrderResponse {
  order: OrderView;
  redemption?: RedemptionView;
}

export interface AcceptOrderResponse {
  order: OrderView;
  redemption: RedemptionView;
  /** The QR code's content. Shown once: only its hash is stored; `POST /api/orders/:id/qr` issues a new one. */
  qrCode: string;
}

export interface QrCodeResponse {
  redemption: RedemptionView;
  qrCode: string;
}

export const ListOrdersQuery = z.strictObject({
  role: z.enum(['buyer', 'recipient']).optional(),
  status: z.enum(['PENDING', 'PAID', 'ACCEPTED', 'REJECTED', 'REDEEMED', 'EXPIRED', 'CANCELLED']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListOrdersQuery = z.infer<typeof ListOrdersQuery>;

export interface ListOrdersResponse {
  orders: OrderView[];
}

/** A QR code is 32 random bytes in base64url (43 characters); anything else cannot be one of ours. */
export const QrCode = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a TreatMe QR code');

export const ScanBody = z.strictObject({ code: QrCode });
export type ScanBody = z.infer<typeof ScanBody>;

export interface ScanResponse {
  order: OrderView;
  redemption: RedemptionView;
}

/** Details of a 409 on scan/confirm/release: who holds (or redeemed) the code, and since when. */
export interface RedemptionConflictDetails {
  status: RedemptionView['status'];
  scannedAt: string | null;
  redeemedAt: string | null;
  bartenderId: string | null;
  bartenderName: string | null;
}

export interface DevPaymentResponse {
  paymentIntentId: string;
  status: string;
  /** What our own webhook route answered to the signed event. */
  webhook: { eventId: string; type: string; status: number };
}
