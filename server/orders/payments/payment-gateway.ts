/**
 * The payments seam. `StripeGateway` talks to Stripe (or the tests' local double of it);
 * `SimulatedGateway` keeps PaymentIntents in this process for embedded/dev mode. Both speak Stripe's
 * vocabulary (PaymentIntent ids and statuses, signed webhook events) so everything above them —
 * order service, webhook route, expiry job — runs the same code in production and in a demo.
 *
 * Every mutating call takes an idempotency key derived from the order ("capture:<orderId>"), so a
 * retry after a timeout, a crash or a second node doing the same step never moves money twice:
 * Stripe (and the simulation) answer a repeated key with the first result.
 */
export type PaymentIntentStatus =
  'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'canceled' | 'succeeded';

export interface PaymentIntentInfo {
  id: string;
  status: PaymentIntentStatus | (string & {});
  amount: number;
  currency: string;
  /** Authorized and not yet captured. */
  amountCapturable: number;
  /** Captured. */
  amountReceived: number;
  /** Already refunded out of `amountReceived` (0 when unknown or none). */
  amountRefunded: number;
  clientSecret: string | null;
  metadata: Record<string, string>;
}

export interface CreatePaymentInput {
  orderId: string;
  amountCents: number;
  currency: string;
  paymentMethod: 'STRIPE' | 'APPLE_PAY' | 'GOOGLE_PAY';
  description: string;
  buyerId: string;
}

/** Thrown by gateways; `kind` lets callers decide between "tell the user", "retry later" and "already done". */
export class PaymentError extends Error {
  constructor(
    readonly kind: 'declined' | 'invalid_state' | 'not_found' | 'transient',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'PaymentError';
  }
}

export interface PaymentGateway {
  readonly kind: 'stripe' | 'simulated';
  /** The secret webhook signatures are checked with (the simulation signs its own events with it). */
  readonly webhookSecret: string;
  createPaymentIntent(input: CreatePaymentInput, idempotencyKey: string): Promise<PaymentIntentInfo>;
  retrieve(paymentIntentId: string): Promise<PaymentIntentInfo>;
  capture(paymentIntentId: string, idempotencyKey: string): Promise<PaymentIntentInfo>;
  cancel(paymentIntentId: string, idempotencyKey: string): Promise<PaymentIntentInfo>;
  /** Refunds everything captured on the PaymentIntent. */
  refund(paymentIntentId: string, idempotencyKey: string): Promise<void>;
}
