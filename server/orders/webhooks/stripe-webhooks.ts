import Stripe from 'stripe';
import { ErrorCode } from '../../../protocol/errors';
import { audit } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { Prisma, type Order, type PrismaTransaction } from '../../storage/prisma-types';
import type { OrderMoney } from '../order-money';
import type { OrderNotifier } from '../order-notifier';
import { isTerminal, OrderEvent, tryTransitionOrder, type OrderStatus } from '../order-state-machine';
import { PaymentError, type PaymentGateway, type PaymentIntentInfo } from '../payments/payment-gateway';

/** Stripe's own default; older deliveries are refused so a captured request cannot be replayed later. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface WebhookResult {
  received: true;
  duplicate?: true;
  ignored?: string;
}

type Ctx = Pick<AppContext, 'db' | 'logger' | 'now'>;

/**
 * Stripe webhooks. Deliveries are at least once, in any order, possibly hours late, so an event is
 * only a hint that a PaymentIntent changed: we fetch the PaymentIntent and move the order towards
 * what it says *now* (never backwards — the state machine refuses that). The event id is recorded in
 * the same transaction as the order change, so a duplicate delivery, or a retry after we answered
 * 500, does its work exactly once.
 */
export class StripeWebhooks {
  constructor(
    private readonly ctx: Ctx,
    private readonly gateway: PaymentGateway,
    private readonly money: OrderMoney,
    private readonly notifier: OrderNotifier,
  ) {}

  /** Verifies the signature over the exact bytes received; anything wrong is a 400 that changes nothing. */
  verify(rawBody: Buffer | undefined, signature: string | undefined): Stripe.Event {
    if (!rawBody || rawBody.length === 0) throw new AppError(ErrorCode.VALIDATION, 'Empty webhook body');
    if (!signature) throw new AppError(ErrorCode.VALIDATION, 'Missing Stripe-Signature header');
    try {
      return Stripe.webhooks.constructEvent(rawBody, signature, this.gateway.webhookSecret, WEBHOOK_TOLERANCE_SECONDS);
    } catch (err) {
      throw new AppError(ErrorCode.VALIDATION, 'Invalid Stripe signature', { cause: err });
    }
  }

  async handle(event: Stripe.Event): Promise<WebhookResult> {
    const prisma = this.ctx.db.prisma;
    if (await prisma.processedWebhookEvent.findUnique({ where: { id: event.id }, select: { id: true } })) {
      return { received: true, duplicate: true };
    }
    const piId = paymentIntentIdOf(event);
    if (!piId) return this.record(event, `unhandled type ${event.type}`);

    let pi: PaymentIntentInfo;
    try {
      pi = await this.gateway.retrieve(piId);
    } catch (err) {
      if (err instanceof PaymentError && err.kind === 'not_found') return this.record(event, 'unknown PaymentIntent');
      // Answering 5xx makes Stripe deliver again later, when the API may be back.
      throw new AppError(ErrorCode.UNAVAILABLE, 'Could not fetch the PaymentIntent', { cause: err });
    }
    const orderId = pi.metadata.orderId;
    const order = await prisma.order.findFirst({
      where: { OR: [{ stripePaymentIntentId: pi.id }, ...(orderId ? [{ id: orderId }] : [])] },
    });
    if (!order) return this.record(event, 'no order for this PaymentIntent');

    const at = new Date(this.ctx.now());
    let outcome: Outcome;
    try {
      outcome = await prisma.$transaction(async (tx) => {
        await tx.processedWebhookEvent.create({ data: { id: event.id, type: event.type } });
        return this.reconcile(tx, order.id, pi, event, at);
      });
    } catch (err) {
      // The same event delivered twice at once: the other delivery committed it.
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return { received: true, duplicate: true };
      throw err;
    }
    await this.followUp(outcome);
    return { received: true };
  }

  private async record(event: Stripe.Event, why: string): Promise<WebhookResult> {
    try {
      await this.ctx.db.prisma.processedWebhookEvent.create({ data: { id: event.id, type: event.type } });
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
      return { received: true, duplicate: true };
    }
    this.ctx.logger.info({ eventId: event.id, type: event.type, why }, 'stripe webhook ignored');
    return { received: true, ignored: why };
  }

  /** Moves the order towards the PaymentIntent's current state, inside the event's transaction. */
  private async reconcile(tx: PrismaTransaction, orderId: string, pi: PaymentIntentInfo, event: Stripe.Event, at: Date): Promise<Outcome> {
    const order = await tx.order.findUniqueOrThrow({ where: { id: orderId } });
    const status = order.status as OrderStatus;
    const log = (action: string, changes: Record<string, unknown>) =>
      audit(
        this.ctx,
        {
          userId: null,
          action,
          resourceType: 'order',
          resourceId: order.id,
          changes: { ...changes, paymentIntentId: pi.id, eventId: event.id, eventType: event.type },
          ip: null,
          userAgent: null,
        },
        tx,
      );
    const out: Outcome = { orderId: order.id, notify: null, release: false };

    if (!order.stripePaymentIntentId && pi.metadata.orderId === order.id) {
      // The create request died between Stripe's answer and our write: adopt the intent now.
      await tx.order.update({ where: { id: order.id }, data: { stripePaymentIntentId: pi.id } });
    }
    if (pi.amount !== order.amountCents || pi.currency.toLowerCase() !== order.currency.toLowerCase()) {
      this.ctx.logger.error(
        { orderId: order.id, piAmount: pi.amount, orderAmount: order.amountCents },
        'PaymentIntent amount does not match its order',
      );
      await log('payment.mismatch', { piAmount: pi.amount, orderAmount: order.amountCents, piCurrency: pi.currency });
      return out;
    }
    if (event.type === 'payment_intent.payment_failed') {
      await log('payment.failed', { status });
    }

    switch (pi.status) {
      case 'requires_capture': {
        if (status === 'PENDING') {
          const t = await tryTransitionOrder(tx, order.id, OrderEvent.PaymentAuthorized, at);
          if (t) {
            await log('payment.authorized', { status: [t.from, t.to], amountCents: pi.amountCapturable });
            out.notify = 'paid';
          }
        } else if (isTerminal(status) && status !== 'REDEEMED') {
          // Authorized after the order ended (client confirmed late): that hold must be let go too.
          await tx.order.update({ where: { id: order.id }, data: { releasedAt: null } });
          await log('payment.late_authorization', { status });
          out.release = true;
        }
        break;
      }
      case 'succeeded': {
        // Captured. We only capture on redemption, so this is either that capture's echo, a capture
        // whose redemption write was lost, or a PaymentIntent captured outside this server.
        if (status === 'PENDING') {
          const t = await tryTransitionOrder(tx, order.id, OrderEvent.PaymentAuthorized, at, { capturedAt: at });
          if (t) {
            await log('payment.authorized', { status: [t.from, t.to], captured: true });
            out.notify = 'paid';
          }
        } else if (status === 'ACCEPTED') {
          const t = await tryTransitionOrder(tx, order.id, OrderEvent.Redeem, at, { capturedAt: order.capturedAt ?? at });
          if (t) {
            await tx.redemption.updateMany({
              where: { orderId: order.id, status: { in: ['PENDING', 'SCANNED'] } },
              data: { status: 'REDEEMED', redeemedAt: at, version: { increment: 1 } },
            });
            await log('payment.captured', { status: [t.from, t.to], recoveredFromWebhook: true });
            out.notify = 'changed';
          }
        } else if (!order.capturedAt) {
          await tx.order.update({ where: { id: order.id }, data: { capturedAt: at } });
          if (isTerminal(status) && status !== 'REDEEMED' && pi.amountRefunded < pi.amountReceived) {
            await tx.order.update({ where: { id: order.id }, data: { releasedAt: null } });
            await log('payment.late_capture', { status });
            out.release = true;
          }
        } else if (isTerminal(status) && status !== 'REDEEMED' && pi.amountRefunded < pi.amountReceived) {
          out.release = true;
        }
        break;
      }
      case 'canceled': {
        // Stripe cancelled the hold (it lapsed, or someone used the dashboard): there is nothing to pour.
        const t = await tryTransitionOrder(tx, order.id, OrderEvent.PaymentVoided, at, { releasedAt: at });
        if (t) {
          await tx.redemption.updateMany({
            where: { orderId: order.id, status: { in: ['PENDING', 'SCANNED'] } },
            data: { status: 'CANCELLED', cancelledAt: at, version: { increment: 1 } },
          });
          await log('payment.voided', { status: [t.from, t.to] });
          out.notify = 'changed';
        } else if (status === 'REDEEMED') {
          this.ctx.logger.error({ orderId: order.id }, 'PaymentIntent cancelled for a redeemed order');
        }
        break;
      }
      default:
        // requires_payment_method (a declined attempt the buyer may retry), requires_action, processing:
        // nothing has changed for the order yet.
        break;
    }
    return out;
  }

  private async followUp(out: Outcome): Promise<void> {
    if (out.release) await this.money.release(out.orderId);
    if (!out.notify) return;
    const order: Order | null = await this.ctx.db.prisma.order.findUnique({ where: { id: out.orderId } });
    if (!order) return;
    try {
      if (out.notify === 'paid') this.notifier.paid(order);
      else this.notifier.changed(order, await this.ctx.db.prisma.redemption.findUnique({ where: { orderId: order.id } }));
    } catch (err) {
      this.ctx.logger.warn({ err, orderId: order.id }, 'order notification failed');
    }
  }
}

interface Outcome {
  orderId: string;
  notify: 'paid' | 'changed' | null;
  release: boolean;
}

function paymentIntentIdOf(event: Stripe.Event): string | null {
  const obj = event.data.object as { object?: string; id?: string; payment_intent?: unknown };
  if (event.type.startsWith('payment_intent.') && obj.object === 'payment_intent' && typeof obj.id === 'string') return obj.id;
  if (event.type.startsWith('charge.') && typeof obj.payment_intent === 'string') return obj.payment_intent;
  return null;
}
