import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import type { Prisma, PrismaClient } from '../storage/prisma-types';

/**
 * The order lifecycle, and the only code allowed to change `Order.status`.
 *
 *   PENDING ──payment_authorized──▶ PAID ──accept──▶ ACCEPTED ──redeem──▶ REDEEMED
 *      │                             │                  │
 *      ├─cancel / payment_voided─────┼─ reject ─▶ REJECTED
 *      ├─expire──────────────────────┴──────────────────┴──▶ EXPIRED / CANCELLED
 *
 * How money follows it: the buyer's card is only *authorized* when they pay (PaymentIntent with
 * capture_method=manual), so PAID means "money held", not "money taken". The hold is captured when a
 * bartender confirms the drink (REDEEMED) and cancelled on REJECTED / CANCELLED / EXPIRED. Why:
 * a treat can be refused, ignored or never poured, and cancelling an authorization costs nothing and
 * leaves no refund on the buyer's statement, while a captured charge can only be refunded (fees kept,
 * days until the money is back). Card authorizations stay capturable for ~7 days and orders expire
 * after 24 h, so every order ends while its hold is still valid.
 *
 * Statuses only move forward (rank strictly grows) whatever order requests, webhooks and jobs arrive
 * in; a transition that is not in the table is refused, never "fixed up". Writers use a compare-and-set
 * on the status they read, so two nodes racing on one order cannot both win.
 */
export const OrderStatus = {
  PENDING: 'PENDING',
  PAID: 'PAID',
  ACCEPTED: 'ACCEPTED',
  REJECTED: 'REJECTED',
  REDEEMED: 'REDEEMED',
  EXPIRED: 'EXPIRED',
  CANCELLED: 'CANCELLED',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

export const OrderEvent = {
  /** Stripe says the amount is authorized (requires_capture) or, with automatic capture, captured. */
  PaymentAuthorized: 'payment_authorized',
  /** The recipient takes the treat; a QR code is issued. */
  Accept: 'accept',
  /** The recipient declines; the hold is released. */
  Reject: 'reject',
  /** The buyer withdraws before the recipient accepted. */
  Cancel: 'cancel',
  /** Stripe cancelled the PaymentIntent itself (authorization lapsed, dashboard, fraud): nothing to pour. */
  PaymentVoided: 'payment_voided',
  /** A bartender confirmed the drink was served; the hold is captured. */
  Redeem: 'redeem',
  /** 24 h passed without a drink. */
  Expire: 'expire',
} as const;
export type OrderEvent = (typeof OrderEvent)[keyof typeof OrderEvent];

/** The table: event → the statuses it may leave from → the status it goes to. Nothing else moves an order. */
export const TRANSITIONS: Record<OrderEvent, { from: readonly OrderStatus[]; to: OrderStatus }> = {
  payment_authorized: { from: ['PENDING'], to: 'PAID' },
  accept: { from: ['PAID'], to: 'ACCEPTED' },
  reject: { from: ['PAID'], to: 'REJECTED' },
  cancel: { from: ['PENDING', 'PAID'], to: 'CANCELLED' },
  payment_voided: { from: ['PENDING', 'PAID', 'ACCEPTED'], to: 'CANCELLED' },
  redeem: { from: ['ACCEPTED'], to: 'REDEEMED' },
  expire: { from: ['PENDING', 'PAID', 'ACCEPTED'], to: 'EXPIRED' },
};

/** Progress through the lifecycle; every allowed transition strictly increases it. */
export const STATUS_RANK: Record<OrderStatus, number> = {
  PENDING: 0,
  PAID: 1,
  ACCEPTED: 2,
  REJECTED: 3,
  REDEEMED: 3,
  EXPIRED: 3,
  CANCELLED: 3,
};

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['REJECTED', 'REDEEMED', 'EXPIRED', 'CANCELLED'];
/** Orders that still hold (or may still receive) the buyer's money and can end without a drink. */
export const OPEN_STATUSES: readonly OrderStatus[] = ['PENDING', 'PAID', 'ACCEPTED'];

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type MoneyEffect = 'none' | 'capture' | 'release';

/** What must happen to the buyer's money once an order reaches `status`. */
export function moneyEffectOf(status: OrderStatus): MoneyEffect {
  switch (status) {
    case 'REDEEMED':
      return 'capture';
    case 'REJECTED':
    case 'EXPIRED':
    case 'CANCELLED':
      return 'release';
    default:
      return 'none';
  }
}

export function nextStatus(from: OrderStatus, event: OrderEvent): OrderStatus | null {
  const t = TRANSITIONS[event];
  return t.from.includes(from) ? t.to : null;
}

export function invalidTransition(from: OrderStatus, event: OrderEvent): AppError {
  return new AppError(ErrorCode.INVALID_TRANSITION, `Cannot ${event.replace('_', ' ')} an order that is ${from}`, {
    details: { status: from, event },
  });
}

const STAMP: Partial<Record<OrderStatus, 'paidAt' | 'acceptedAt' | 'rejectedAt' | 'redeemedAt' | 'expiredAt' | 'cancelledAt'>> = {
  PAID: 'paidAt',
  ACCEPTED: 'acceptedAt',
  REJECTED: 'rejectedAt',
  REDEEMED: 'redeemedAt',
  EXPIRED: 'expiredAt',
  CANCELLED: 'cancelledAt',
};

type Tx = Prisma.TransactionClient | PrismaClient;

export interface TransitionResult {
  from: OrderStatus;
  to: OrderStatus;
}

/**
 * Moves one order by `event`, as a compare-and-set on the status it read: if another request, node
 * or webhook moved the order in between, nothing is written and the caller gets INVALID_TRANSITION
 * naming the status it lost to. Run it inside the transaction that does the step's other writes.
 */
export async function transitionOrder(
  tx: Tx,
  orderId: string,
  event: OrderEvent,
  at: Date,
  extra: Prisma.OrderUpdateManyMutationInput = {},
): Promise<TransitionResult> {
  const current = await tx.order.findUnique({ where: { id: orderId }, select: { status: true } });
  if (!current) throw new AppError(ErrorCode.NOT_FOUND, 'Order not found');
  const from = current.status as OrderStatus;
  const to = nextStatus(from, event);
  if (!to) throw invalidTransition(from, event);
  const stamp = STAMP[to];
  const { count } = await tx.order.updateMany({
    where: { id: orderId, status: from },
    data: { ...extra, status: to, ...(stamp ? { [stamp]: at } : {}) },
  });
  if (count !== 1) {
    const now = await tx.order.findUnique({ where: { id: orderId }, select: { status: true } });
    throw invalidTransition((now?.status ?? from) as OrderStatus, event);
  }
  return { from, to };
}

/** Like `transitionOrder`, but a refused transition is a quiet `null` (webhooks and jobs: stale input is normal). */
export async function tryTransitionOrder(
  tx: Tx,
  orderId: string,
  event: OrderEvent,
  at: Date,
  extra: Prisma.OrderUpdateManyMutationInput = {},
): Promise<TransitionResult | null> {
  try {
    return await transitionOrder(tx, orderId, event, at, extra);
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.INVALID_TRANSITION) return null;
    throw err;
  }
}
