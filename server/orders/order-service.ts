import { ErrorCode } from '../../protocol/errors';
import type {
  CreateOrderBody,
  CreateOrderResponse,
  AcceptOrderResponse,
  ListOrdersQuery,
  QrCodeResponse,
} from '../../protocol/http/orders';
import { MAX_ORDER_CENTS } from '../../protocol/http/orders';
import type { OrderView } from '../../protocol/events';
import { audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { isBlockedEitherWay } from '../social/blocks';
import { areFriends } from '../social/friends';
import type { Order, PrismaTransaction, Redemption } from '../storage/prisma-types';
import { Prisma } from '../storage/prisma-types';
import type { OrderMoney } from './order-money';
import type { OrderNotifier } from './order-notifier';
import { transitionOrder, OrderEvent, OPEN_STATUSES } from './order-state-machine';
import { toOrderView, toRedemptionView } from './order-views';
import { PaymentError, type PaymentGateway } from './payments/payment-gateway';
import { newQrCode } from './redemption/qr-token';

export interface Source {
  ip: string | null;
  userAgent: string | null;
}

type Ctx = Pick<AppContext, 'db' | 'logger' | 'now' | 'presence'>;

/** The limits and terms of a treat. */
export interface OrderSettings {
  maxPendingTreatsPerRecipient: number;
  maxUnansweredOffersPerBuyer: number;
  currency: string;
  expiryHours: number;
}

const notFound = () => new AppError(ErrorCode.NOT_FOUND, 'Order not found');
export const TREAT_REFUSAL = 'You can treat a friend, or someone at this venue who is open to a treat';

/** Serialises creates per user inside one transaction, on any node (PostgreSQL advisory locks). */
async function lockUsers(tx: PrismaTransaction, ids: string[]): Promise<void> {
  // Always the same order, so two buyers treating each other at once cannot deadlock.
  for (const id of [...new Set(ids)].sort()) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`treat:${id}`}))`;
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

interface PricedItem {
  menuItemId: string;
  name: string;
  quantity: number;
  priceCents: number;
}

/** Buying, accepting, rejecting and cancelling treats. Redemption lives in redemption/. */
export class OrderService {
  constructor(
    private readonly ctx: Ctx,
    private readonly gateway: PaymentGateway,
    private readonly money: OrderMoney,
    private readonly notifier: OrderNotifier,
    private readonly settings: OrderSettings,
  ) {}

  async create(buyerId: string, body: CreateOrderBody, idempotencyKey: string, source: Source): Promise<CreateOrderResponse> {
    const prisma = this.ctx.db.prisma;
    // The HTTP idempotency store forgets after an hour; the order row remembers its key for good.
    const existing = await prisma.order.findUnique({ where: { buyerId_idempotencyKey: { buyerId, idempotencyKey } } });
    if (existing) return this.resume(existing, body);

    if (body.recipientId === buyerId) throw new AppError(ErrorCode.VALIDATION, 'You cannot buy yourself a treat');
    const now = this.ctx.now();
    const [recipient, venue] = await Promise.all([
      prisma.user.findUnique({ where: { id: body.recipientId }, select: { id: true, displayName: true, deletedAt: true } }),
      prisma.venue.findUnique({ where: { id: body.venueId }, select: { id: true, name: true } }),
    ]);
    if (!venue) throw new AppError(ErrorCode.NOT_FOUND, 'Venue not found');
    // Every reason a person may not be treated reads the same (status, code, message): no account, a
    // block either way, not here, hidden, not open to a treat. Otherwise the refusal itself would tell
    // a stranger that they are blocked, or where a person (or a ghost) is, venue after venue.
    const refusal = () => new AppError(ErrorCode.FORBIDDEN, TREAT_REFUSAL);
    if (!recipient || recipient.deletedAt !== null) throw refusal();
    if (await isBlockedEitherWay(prisma, buyerId, body.recipientId)) throw refusal();
    if (!(await areFriends(prisma, buyerId, body.recipientId))) {
      // A stranger may treat only someone they can see on the venue's list: both checked in there, the
      // recipient visible and open to a treat.
      const [theirs, mine] = await Promise.all([this.ctx.presence.get(body.recipientId, now), this.ctx.presence.get(buyerId, now)]);
      const visibleHere = theirs && theirs.venueId === body.venueId && theirs.visible && theirs.wantsToReceive;
      if (!visibleHere || mine?.venueId !== body.venueId) throw refusal();
    }
    const { amountCents, items } = await this.price(body);

    let order: Order;
    try {
      order = await prisma.$transaction(async (tx) => {
        await lockUsers(tx, [buyerId, body.recipientId]);
        const [waiting, unanswered] = await Promise.all([
          tx.order.count({ where: { recipientId: body.recipientId, status: { in: ['PENDING', 'PAID'] } } }),
          tx.order.count({ where: { buyerId, status: { in: ['PENDING', 'PAID'] } } }),
        ]);
        if (waiting >= this.settings.maxPendingTreatsPerRecipient) {
          throw new AppError(ErrorCode.LIMIT_REACHED, 'This person already has several treats waiting', {
            details: { limit: this.settings.maxPendingTreatsPerRecipient },
          });
        }
        if (unanswered >= this.settings.maxUnansweredOffersPerBuyer) {
          throw new AppError(ErrorCode.LIMIT_REACHED, 'You have too many unanswered treats; wait for answers or cancel some', {
            details: { limit: this.settings.maxUnansweredOffersPerBuyer },
          });
        }
        const created = await tx.order.create({
          data: {
            buyerId,
            recipientId: body.recipientId,
            venueId: body.venueId,
            amountCents,
            currency: this.settings.currency,
            paymentMethod: body.paymentMethod,
            idempotencyKey,
            status: 'PENDING',
            expiresAt: new Date(now + this.settings.expiryHours * 3_600_000),
            message: body.message ?? null,
            ...(items ? { items: items as unknown as Prisma.InputJsonValue } : {}),
            ...(items
              ? {
                  orderItems: {
                    create: items.map((i) => ({ menuItemId: i.menuItemId, name: i.name, priceCents: i.priceCents, quantity: i.quantity })),
                  },
                }
              : {}),
          },
        });
        await audit(
          this.ctx,
          {
            userId: buyerId,
            action: 'order.created',
            resourceType: 'order',
            resourceId: created.id,
            changes: { status: [null, 'PENDING'], amountCents, recipientId: body.recipientId, venueId: body.venueId },
            ...source,
          },
          tx,
        );
        return created;
      });
    } catch (err) {
      // The same key raced in on another node between our lookup and our insert: it won, resume it.
      if (isUniqueViolation(err)) {
        const winner = await prisma.order.findUnique({ where: { buyerId_idempotencyKey: { buyerId, idempotencyKey } } });
        if (winner) return this.resume(winner, body);
      }
      throw err;
    }
    this.notifierSafe(() => this.notifier.created(order));
    return this.attachPayment(order, source);
  }

  /** A repeat of an earlier create (same key): the same order, with its PaymentIntent made if it is still missing. */
  private async resume(order: Order, body: CreateOrderBody): Promise<CreateOrderResponse> {
    const sameItems = body.items
      ? JSON.stringify(normaliseItems(body.items)) ===
        JSON.stringify(
          normaliseItems(
            ((order.items as unknown as PricedItem[] | null) ?? []).map((i) => ({ menuItemId: i.menuItemId, quantity: i.quantity })),
          ),
        )
      : order.items === null && body.amountCents === order.amountCents;
    if (
      order.recipientId !== body.recipientId ||
      order.venueId !== body.venueId ||
      order.paymentMethod !== body.paymentMethod ||
      !sameItems
    ) {
      throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was already used for a different order');
    }
    return this.attachPayment(order, { ip: null, userAgent: null });
  }

  /**
   * Creates the PaymentIntent after the order row exists (its metadata names the order, so a webhook
   * can always find it), keyed by the order id so a retry or a racing node gets the same intent.
   */
  private async attachPayment(order: Order, source: Source): Promise<CreateOrderResponse> {
    try {
      if (order.stripePaymentIntentId) {
        const pi = await this.gateway.retrieve(order.stripePaymentIntentId);
        return {
          order: toOrderView(order),
          payment: { provider: this.gateway.kind, paymentIntentId: pi.id, clientSecret: pi.clientSecret },
        };
      }
      if (order.status !== 'PENDING') {
        throw new AppError(ErrorCode.INVALID_TRANSITION, `This order is already ${order.status}`, { details: { status: order.status } });
      }
      const venue = await this.ctx.db.prisma.venue.findUnique({ where: { id: order.venueId }, select: { name: true } });
      const pi = await this.gateway.createPaymentIntent(
        {
          orderId: order.id,
          amountCents: order.amountCents,
          currency: order.currency,
          paymentMethod: order.paymentMethod,
          description: `TreatMe drink at ${venue?.name ?? 'a venue'}`,
          buyerId: order.buyerId,
        },
        `order:${order.id}`,
      );
      const saved = await this.ctx.db.prisma.$transaction(async (tx) => {
        await tx.order.updateMany({ where: { id: order.id, stripePaymentIntentId: null }, data: { stripePaymentIntentId: pi.id } });
        await audit(
          this.ctx,
          {
            userId: order.buyerId,
            action: 'payment.intent_created',
            resourceType: 'order',
            resourceId: order.id,
            changes: { paymentIntentId: pi.id, amountCents: pi.amount, provider: this.gateway.kind },
            ...source,
          },
          tx,
        );
        return tx.order.findUniqueOrThrow({ where: { id: order.id } });
      });
      return { order: toOrderView(saved), payment: { provider: this.gateway.kind, paymentIntentId: pi.id, clientSecret: pi.clientSecret } };
    } catch (err) {
      if (err instanceof PaymentError) {
        // The order stays PENDING without a payment: the same key retries it, the expiry job ends it.
        if (err.kind === 'transient')
          throw new AppError(ErrorCode.UNAVAILABLE, 'The payment provider is unavailable; retry with the same Idempotency-Key', {
            cause: err,
          });
        throw new AppError(ErrorCode.PAYMENT_FAILED, err.message, { cause: err });
      }
      throw err;
    }
  }

  private async price(body: CreateOrderBody): Promise<{ amountCents: number; items: PricedItem[] | null }> {
    if (!body.items) return { amountCents: body.amountCents!, items: null };
    const ids = [...new Set(body.items.map((i) => i.menuItemId))];
    const menu = await this.ctx.db.prisma.menuItem.findMany({ where: { id: { in: ids }, venueId: body.venueId, available: true } });
    const byId = new Map(menu.map((m) => [m.id, m]));
    const items: PricedItem[] = [];
    for (const [index, i] of body.items.entries()) {
      const m = byId.get(i.menuItemId);
      if (!m) {
        throw new AppError(ErrorCode.VALIDATION, 'Unknown or unavailable menu item for this venue', {
          issues: [{ path: ['items', index, 'menuItemId'], message: 'not on this venue’s menu' }],
        });
      }
      items.push({ menuItemId: m.id, name: m.name, quantity: i.quantity, priceCents: m.priceCents });
    }
    const amountCents = items.reduce((sum, i) => sum + i.priceCents * i.quantity, 0);
    if (amountCents > MAX_ORDER_CENTS) throw new AppError(ErrorCode.VALIDATION, `An order may not exceed ${MAX_ORDER_CENTS} cents`);
    if (amountCents < 50) throw new AppError(ErrorCode.VALIDATION, 'An order must be at least 50 cents');
    return { amountCents, items };
  }

  /** Loads an order the caller may see (buyer, recipient or staff of its venue); anyone else gets 404. */
  async get(userId: string, orderId: string): Promise<{ order: OrderView; redemption?: ReturnType<typeof toRedemptionView> }> {
    const order = await this.ctx.db.prisma.order.findUnique({ where: { id: orderId }, include: { redemption: true } });
    if (!order) throw notFound();
    if (order.buyerId !== userId && order.recipientId !== userId) {
      const staff = await this.ctx.db.prisma.venueStaff.findUnique({ where: { venueId_userId: { venueId: order.venueId, userId } } });
      if (!staff) throw notFound();
    }
    return { order: toOrderView(order), ...(order.redemption ? { redemption: toRedemptionView(order.redemption) } : {}) };
  }

  async list(userId: string, q: ListOrdersQuery): Promise<OrderView[]> {
    const who =
      q.role === 'buyer'
        ? [{ buyerId: userId }]
        : q.role === 'recipient'
          ? [{ recipientId: userId }]
          : [{ buyerId: userId }, { recipientId: userId }];
    const rows = await this.ctx.db.prisma.order.findMany({
      where: { OR: who, ...(q.status ? { status: q.status } : {}) },
      orderBy: { createdAt: 'desc' },
      take: q.limit,
    });
    return rows.map(toOrderView);
  }

  private async partyOrder(orderId: string, userId: string, role: 'buyer' | 'recipient'): Promise<Order> {
    const order = await this.ctx.db.prisma.order.findUnique({ where: { id: orderId } });
    if (!order || (order.buyerId !== userId && order.recipientId !== userId)) throw notFound();
    const allowed = role === 'buyer' ? order.buyerId === userId : order.recipientId === userId;
    if (!allowed)
      throw new AppError(ErrorCode.FORBIDDEN, role === 'buyer' ? 'Only the buyer can do this' : 'Only the recipient can do this');
    return order;
  }

  async accept(orderId: string, userId: string, source: Source): Promise<AcceptOrderResponse> {
    const order = await this.partyOrder(orderId, userId, 'recipient');
    const now = this.ctx.now();
    if (order.expiresAt.getTime() <= now && OPEN_STATUSES.includes(order.status)) {
      throw new AppError(ErrorCode.INVALID_TRANSITION, 'This treat has expired', { details: { status: 'EXPIRED' } });
    }
    if (await isBlockedEitherWay(this.ctx.db.prisma, order.buyerId, order.recipientId)) {
      throw new AppError(ErrorCode.BLOCKED, 'You cannot accept a treat from this person');
    }
    const qr = newQrCode();
    const at = new Date(now);
    const { saved, redemption } = await this.ctx.db.prisma.$transaction(async (tx) => {
      const t = await transitionOrder(tx, orderId, OrderEvent.Accept, at);
      const redemption = await tx.redemption.create({ data: { orderId, qrCodeHash: qr.hash, status: 'PENDING' } });
      await audit(
        this.ctx,
        {
          userId,
          action: 'order.accepted',
          resourceType: 'order',
          resourceId: orderId,
          changes: { status: [t.from, t.to], redemptionId: redemption.id },
          ...source,
        },
        tx,
      );
      return { saved: await tx.order.findUniqueOrThrow({ where: { id: orderId } }), redemption };
    });
    this.notifierSafe(() => this.notifier.accepted(saved, redemption));
    return { order: toOrderView(saved), redemption: toRedemptionView(redemption), qrCode: qr.code };
  }

  async reject(orderId: string, userId: string, source: Source): Promise<{ order: OrderView }> {
    await this.partyOrder(orderId, userId, 'recipient');
    return this.end(orderId, userId, OrderEvent.Reject, 'order.rejected', source);
  }

  async cancel(orderId: string, userId: string, source: Source): Promise<{ order: OrderView }> {
    await this.partyOrder(orderId, userId, 'buyer');
    return this.end(orderId, userId, OrderEvent.Cancel, 'order.cancelled', source);
  }

  /** Ends an order without a drink, then gives the money back (or leaves that to the expiry job if Stripe is away). */
  private async end(orderId: string, userId: string, event: OrderEvent, action: string, source: Source): Promise<{ order: OrderView }> {
    const at = new Date(this.ctx.now());
    const saved = await this.ctx.db.prisma.$transaction(async (tx) => {
      const t = await transitionOrder(tx, orderId, event, at);
      await audit(
        this.ctx,
        { userId, action, resourceType: 'order', resourceId: orderId, changes: { status: [t.from, t.to] }, ...source },
        tx,
      );
      return tx.order.findUniqueOrThrow({ where: { id: orderId } });
    });
    await this.money.release(orderId);
    this.notifierSafe(() => this.notifier.changed(saved));
    return { order: toOrderView(saved) };
  }

  /** A fresh QR code for an accepted, unscanned treat (the first is shown once; only its hash is kept). */
  async reissueQr(orderId: string, userId: string, source: Source): Promise<QrCodeResponse> {
    const order = await this.partyOrder(orderId, userId, 'recipient');
    const redemption = await this.ctx.db.prisma.redemption.findUnique({ where: { orderId } });
    if (order.status !== 'ACCEPTED' || !redemption || redemption.status !== 'PENDING') {
      throw new AppError(ErrorCode.INVALID_TRANSITION, 'A QR code can only be issued for an accepted treat not yet scanned', {
        details: { status: order.status, redemptionStatus: redemption?.status ?? null },
      });
    }
    const qr = newQrCode();
    const updated: Redemption | null = await this.ctx.db.prisma.$transaction(async (tx) => {
      const { count } = await tx.redemption.updateMany({
        where: { id: redemption.id, status: 'PENDING', version: redemption.version },
        data: { qrCodeHash: qr.hash, version: { increment: 1 } },
      });
      if (count !== 1) return null;
      await audit(
        this.ctx,
        { userId, action: 'redemption.code_reissued', resourceType: 'redemption', resourceId: redemption.id, ...source },
        tx,
      );
      return tx.redemption.findUniqueOrThrow({ where: { id: redemption.id } });
    });
    if (!updated) throw new AppError(ErrorCode.CONFLICT, 'The code was scanned or changed meanwhile; reload the order');
    return { redemption: toRedemptionView(updated), qrCode: qr.code };
  }

  private notifierSafe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.logger.warn({ err }, 'order notification failed');
    }
  }
}

function normaliseItems(items: { menuItemId: string; quantity: number }[]): [string, number][] {
  const sum = new Map<string, number>();
  for (const i of items) sum.set(i.menuItemId, (sum.get(i.menuItemId) ?? 0) + i.quantity);
  return [...sum.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}
