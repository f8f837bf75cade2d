import { z } from 'zod';
import type { OrderView, RedemptionView } from '../events';
import { Id } from '../schemas';
import type { ErrorCode } from '../errors';
import type { HttpOperation } from './operation';

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

// ---- schemas of the answers, for the OpenAPI document (protocol/http/operations.ts) -------------

export const OrderViewSchema = z.object({
  id: z.string(),
  buyerId: z.string(),
  recipientId: z.string(),
  venueId: z.string(),
  amountCents: z.number().int(),
  currency: z.string(),
  status: z.enum(['PENDING', 'PAID', 'ACCEPTED', 'REJECTED', 'REDEEMED', 'EXPIRED', 'CANCELLED']),
  paymentMethod: OrderPaymentMethod,
  items: z
    .array(z.object({ menuItemId: z.string(), name: z.string(), quantity: z.number().int(), priceCents: z.number().int() }))
    .nullable(),
  message: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export const RedemptionViewSchema = z.object({
  id: z.string(),
  orderId: z.string(),
  status: z.enum(['PENDING', 'SCANNED', 'REDEEMED', 'CANCELLED']),
  scannedAt: z.string().nullable(),
  bartenderId: z.string().nullable(),
});
const PaymentInfoSchema = z.object({
  provider: z.enum(['stripe', 'simulated']),
  paymentIntentId: z.string(),
  clientSecret: z.string().nullable(),
});
export const CreateOrderResponseSchema = z.object({ order: OrderViewSchema, payment: PaymentInfoSchema });
export const OrderResponseSchema = z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema.optional() });
export const AcceptOrderResponseSchema = z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema, qrCode: z.string() });
export const QrCodeResponseSchema = z.object({ redemption: RedemptionViewSchema, qrCode: z.string() });
export const ScanResponseSchema = z.object({ order: OrderViewSchema, redemption: RedemptionViewSchema });
const IdPath = z.strictObject({ id: Id });
const IdempotencyHeaders = z.object({ [IDEMPOTENCY_HEADER]: IdempotencyKey });
const DevPaymentParams = z.strictObject({ paymentIntentId: z.string() });
const DevPaymentResponseSchema = z.object({
  paymentIntentId: z.string(),
  status: z.string(),
  webhook: z.object({ eventId: z.string(), type: z.string(), status: z.number().int() }),
});

/** A signed-in POST that moves one order or redemption (by id) along its state machine. */
function transitionById(
  path: string,
  tag: 'orders' | 'redemptions',
  summary: string,
  response: z.ZodType,
  errors: ErrorCode[] = ['INVALID_TRANSITION', 'CONFLICT'],
): HttpOperation {
  return { method: 'post', path, summary, tag, auth: 'required', params: IdPath, responses: { 200: response }, errors };
}

export const orderOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/orders',
    summary: 'Buy a drink for someone (requires an Idempotency-Key header); answers the PaymentIntent client secret',
    tag: 'orders',
    auth: 'required',
    headers: IdempotencyHeaders,
    body: CreateOrderBody,
    responses: { 201: CreateOrderResponseSchema },
    errors: ['BLOCKED', 'LIMIT_REACHED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS', 'PAYMENT_FAILED'],
  },
  {
    method: 'get',
    path: '/api/orders',
    summary: 'My orders, bought or received',
    tag: 'orders',
    auth: 'required',
    query: ListOrdersQuery,
    responses: { 200: z.object({ orders: z.array(OrderViewSchema) }) },
  },
  {
    method: 'get',
    path: '/api/orders/{id}',
    summary: 'One order (buyer, recipient or staff of its venue)',
    tag: 'orders',
    auth: 'required',
    params: IdPath,
    responses: { 200: OrderResponseSchema },
  },
  transitionById(
    '/api/orders/{id}/accept',
    'orders',
    'Accept a paid treat (recipient); answers the QR code once',
    AcceptOrderResponseSchema,
    ['INVALID_TRANSITION', 'CONFLICT', 'BLOCKED'],
  ),
  transitionById(
    '/api/orders/{id}/reject',
    'orders',
    'Decline a paid treat (recipient); the hold is released',
    z.object({ order: OrderViewSchema }),
  ),
  transitionById(
    '/api/orders/{id}/cancel',
    'orders',
    'Withdraw a treat before it is accepted (buyer); the hold is released',
    z.object({ order: OrderViewSchema }),
  ),
  transitionById(
    '/api/orders/{id}/qr',
    'orders',
    'Issue a fresh QR code for an accepted treat (the old one stops working)',
    QrCodeResponseSchema,
  ),
  {
    method: 'post',
    path: '/api/redemptions/scan',
    summary: 'Scan a QR code (staff of the venue): the first scan holds it, any other is 409',
    tag: 'redemptions',
    auth: 'required',
    body: ScanBody,
    responses: { 200: ScanResponseSchema },
    errors: ['CONFLICT', 'INVALID_TRANSITION'],
  },
  transitionById(
    '/api/redemptions/{id}/confirm',
    'redemptions',
    'The drink was served (the scanning bartender): the payment is captured',
    ScanResponseSchema,
  ),
  transitionById('/api/redemptions/{id}/release', 'redemptions', 'Put a scanned code back (the scanning bartender)', ScanResponseSchema),
  {
    method: 'post',
    path: '/api/webhooks/stripe',
    summary: 'Stripe webhook (raw body, Stripe-Signature verified)',
    tag: 'payments',
    auth: 'none',
    headers: z.object({ 'Stripe-Signature': z.string() }),
    responses: { 200: z.object({ received: z.literal(true), duplicate: z.literal(true).optional(), ignored: z.string().optional() }) },
  },
  {
    method: 'post',
    path: '/api/dev/payments/{paymentIntentId}/succeed',
    summary: 'Simulated payments only: authorize and deliver the signed webhook',
    tag: 'payments',
    auth: 'none',
    devOnly: true,
    params: DevPaymentParams,
    responses: { 200: DevPaymentResponseSchema },
  },
  {
    method: 'post',
    path: '/api/dev/payments/{paymentIntentId}/fail',
    summary: 'Simulated payments only: decline and deliver the signed webhook',
    tag: 'payments',
    auth: 'none',
    devOnly: true,
    params: DevPaymentParams,
    responses: { 200: DevPaymentResponseSchema },
  },
];
