import { ErrorCode } from '../../protocol/errors';
import { audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { PaymentError, type PaymentGateway, type PaymentIntentInfo } from './payments/payment-gateway';
import { isTerminal, type OrderStatus } from './order-state-machine';

export type ReleaseOutcome = 'cancelled' | 'refunded' | 'nothing_held' | 'already_released' | 'retry_later';

/**
 * Moves money for orders. Every call first asks the gateway for the PaymentIntent's current state and
 * acts on that, not on what we believe: a webhook may not have arrived yet, a previous attempt may
 * have succeeded just before its answer was lost. Stripe idempotency keys are derived from the order
 * so two nodes doing the same step make one Stripe operation.
 */
export class OrderMoney {
  constructor(
    private readonly ctx: Pick<AppContext, 'db' | 'logger' | 'now'>,
    private readonly gateway: PaymentGateway,
  ) {}

  /**
   * Takes the held amount for a redeemed drink. Already captured (a retry after a lost answer) counts
   * as success; a hold that is gone (cancelled, lapsed, never authorized) is PAYMENT_FAILED.
   */
  async capture(order: { id: string; stripePaymentIntentId: string | null; amountCents: number }): Promise<PaymentIntentInfo> {
    if (!order.stripePaymentIntentId) throw new AppError(ErrorCode.PAYMENT_FAILED, 'This order has no payment');
    const piId = order.stripePaymentIntentId;
    let pi = await this.gateway.retrieve(piId).catch((err: unknown) => gatewayFailure(err));
    if (pi.status === 'succeeded') return pi;
    if (pi.status !== 'requires_capture') {
      throw new AppError(ErrorCode.PAYMENT_FAILED, `The payment hold is no longer valid (${pi.status})`, {
        details: { paymentStatus: pi.status },
      });
    }
    try {
      pi = await this.gateway.capture(piId, `capture:${order.id}`);
    } catch (err) {
      // "Unexpected state" may mean a concurrent capture won: the PaymentIntent says which.
      if (err instanceof PaymentError && err.kind === 'invalid_state') {
        const now = await this.gateway.retrieve(piId).catch((e: unknown) => gatewayFailure(e));
        if (now.status === 'succeeded') return now;
      }
      gatewayFailure(err);
    }
    if (pi.status !== 'succeeded') {
      throw new AppError(ErrorCode.PAYMENT_FAILED, `Capture did not complete (${pi.status})`, { details: { paymentStatus: pi.status } });
    }
    return pi;
  }

  /**
   * Gives the buyer's money back for an order that ended without a drink: cancels a hold, refunds a
   * capture. Only for ended orders; idempotent; sets `releasedAt` once done. `retry_later` leaves
   * `releasedAt` null so the expiry job tries again (Stripe down, PaymentIntent still processing).
   */
  async release(orderId: string): Promise<ReleaseOutcome> {
    const order = await this.ctx.db.prisma.order.findUnique({ where: { id: orderId } });
    if (!order) return 'nothing_held';
    if (!isTerminal(order.status as OrderStatus) || order.status === 'REDEEMED') return 'nothing_held';
    if (order.releasedAt) return 'already_released';
    let outcome: ReleaseOutcome;
    try {
      outcome = order.stripePaymentIntentId ? await this.releaseIntent(order.id, order.stripePaymentIntentId) : 'nothing_held';
    } catch (err) {
      this.ctx.logger.warn({ err, orderId }, 'releasing the hold failed; the expiry job will retry');
      return 'retry_later';
    }
    if (outcome === 'retry_later') return outcome;
    const at = new Date(this.ctx.now());
    await this.ctx.db.prisma.$transaction(async (tx) => {
      const { count } = await tx.order.updateMany({ where: { id: orderId, releasedAt: null }, data: { releasedAt: at } });
      if (count === 1) {
        await audit(
          this.ctx,
          {
            userId: null,
            action: 'payment.released',
            resourceType: 'order',
            resourceId: orderId,
            changes: { outcome, status: order.status, paymentIntentId: order.stripePaymentIntentId },
            ip: null,
            userAgent: null,
          },
          tx,
        );
      }
    });
    return outcome;
  }

  private async releaseIntent(orderId: string, piId: string): Promise<ReleaseOutcome> {
    let pi: PaymentIntentInfo;
    try {
      pi = await this.gateway.retrieve(piId);
    } catch (err) {
      if (err instanceof PaymentError && err.kind === 'not_found') return 'nothing_held';
      throw err;
    }
    switch (pi.status) {
      case 'canceled':
        return 'cancelled';
      case 'succeeded':
        if (pi.amountRefunded >= pi.amountReceived) return 'refunded';
        await this.gateway.refund(piId, `refund:${orderId}`);
        return 'refunded';
      case 'processing':
        // Cannot cancel while the bank is still deciding; the result arrives by webhook or next sweep.
        return 'retry_later';
      default:
        try {
          // The key includes the state we saw: Stripe replays a key's first answer, so a cancel refused
          // in one state must not block a later attempt in another.
          await this.gateway.cancel(piId, `cancel:${orderId}:${pi.status}`);
          return 'cancelled';
        } catch (err) {
          if (err instanceof PaymentError && err.kind === 'invalid_state') return 'retry_later';
          throw err;
        }
    }
  }
}

function gatewayFailure(err: unknown): never {
  if (err instanceof AppError) throw err;
  if (err instanceof PaymentError) {
    if (err.kind === 'transient')
      throw new AppError(ErrorCode.UNAVAILABLE, 'The payment provider is unavailable; try again', { cause: err });
    throw new AppError(ErrorCode.PAYMENT_FAILED, err.message, { cause: err });
  }
  throw err;
}
