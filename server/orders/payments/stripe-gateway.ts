import Stripe from 'stripe';
import { PaymentError, type CreatePaymentInput, type PaymentGateway, type PaymentIntentInfo } from './payment-gateway';

export interface StripeGatewayOptions {
  secretKey: string;
  webhookSecret: string;
  /** Another base URL for the API (the tests' local double); unset → api.stripe.com. */
  apiBase?: string | undefined;
  timeoutMs?: number;
}

export function createStripeClient(opts: StripeGatewayOptions): Stripe {
  const base = opts.apiBase ? new URL(opts.apiBase) : undefined;
  return new Stripe(opts.secretKey, {
    // Retries are safe: every mutating call carries our own idempotency key.
    maxNetworkRetries: 2,
    timeout: opts.timeoutMs ?? 20_000,
    typescript: true,
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === 'https:' ? 443 : 80),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

function toInfo(pi: Stripe.PaymentIntent): PaymentIntentInfo {
  const charge = typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : null;
  return {
    id: pi.id,
    status: pi.status,
    amount: pi.amount,
    currency: pi.currency,
    amountCapturable: pi.amount_capturable,
    amountReceived: pi.amount_received,
    amountRefunded: charge?.amount_refunded ?? 0,
    clientSecret: pi.client_secret,
    metadata: { ...(pi.metadata ?? {}) },
  };
}

function translate(err: unknown, what: string): never {
  if (err instanceof Stripe.errors.StripeCardError) throw new PaymentError('declined', err.message, { cause: err });
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    if (err.code === 'resource_missing') throw new PaymentError('not_found', `${what}: ${err.message}`, { cause: err });
    if (
      err.code === 'payment_intent_unexpected_state' ||
      err.code === 'charge_already_refunded' ||
      err.code === 'charge_already_captured'
    ) {
      throw new PaymentError('invalid_state', `${what}: ${err.message}`, { cause: err });
    }
  }
  if (
    err instanceof Stripe.errors.StripeConnectionError ||
    err instanceof Stripe.errors.StripeAPIError ||
    err instanceof Stripe.errors.StripeRateLimitError
  ) {
    throw new PaymentError('transient', `${what}: ${err.message}`, { cause: err });
  }
  throw err;
}

/** Real Stripe PaymentIntents: authorize on pay, capture on redemption, cancel otherwise. */
export class StripeGateway implements PaymentGateway {
  readonly kind = 'stripe' as const;
  readonly webhookSecret: string;
  private readonly stripe: Stripe;

  constructor(opts: StripeGatewayOptions) {
    this.webhookSecret = opts.webhookSecret;
    this.stripe = createStripeClient(opts);
  }

  async createPaymentIntent(input: CreatePaymentInput, idempotencyKey: string): Promise<PaymentIntentInfo> {
    try {
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: input.amountCents,
          currency: input.currency,
          // Authorize now, capture when the drink is poured (see order-state-machine.ts).
          capture_method: 'manual',
          // No explicit method types: Stripe's dynamic payment methods offer card, Apple Pay and Google
          // Pay (card wallets) to the PaymentSheet; the buyer's choice is kept in metadata for support.
          description: input.description,
          metadata: { orderId: input.orderId, buyerId: input.buyerId, paymentMethod: input.paymentMethod },
        },
        { idempotencyKey },
      );
      return toInfo(pi);
    } catch (err) {
      translate(err, 'create PaymentIntent');
    }
  }

  async retrieve(paymentIntentId: string): Promise<PaymentIntentInfo> {
    try {
      return toInfo(await this.stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] }));
    } catch (err) {
      translate(err, 'retrieve PaymentIntent');
    }
  }

  async capture(paymentIntentId: string, idempotencyKey: string): Promise<PaymentIntentInfo> {
    try {
      return toInfo(await this.stripe.paymentIntents.capture(paymentIntentId, {}, { idempotencyKey }));
    } catch (err) {
      translate(err, 'capture PaymentIntent');
    }
  }

  async cancel(paymentIntentId: string, idempotencyKey: string): Promise<PaymentIntentInfo> {
    try {
      return toInfo(await this.stripe.paymentIntents.cancel(paymentIntentId, { cancellation_reason: 'abandoned' }, { idempotencyKey }));
    } catch (err) {
      translate(err, 'cancel PaymentIntent');
    }
  }

  async refund(paymentIntentId: string, idempotencyKey: string): Promise<void> {
    try {
      await this.stripe.refunds.create({ payment_intent: paymentIntentId, reason: 'requested_by_customer' }, { idempotencyKey });
    } catch (err) {
      translate(err, 'refund PaymentIntent');
    }
  }
}
