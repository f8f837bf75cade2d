import { ErrorCode } from '../../../protocol/errors';
import type { RedemptionConflictDetails, ScanResponse } from '../../../protocol/http/orders';
import { audit } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import type { Order, Prisma, Redemption, RedemptionStatus } from '../../storage/prisma-types';
import type { OrderMoney } from '../order-money';
import type { OrderNotifier } from '../order-notifier';
import { OrderEvent, transitionOrder } from '../order-state-machine';
import { toOrderView, toRedemptionView } from '../order-views';
import type { Source } from '../order-service';
import { hashQrCode } from './qr-token';
import { retryTransient } from '../../lib/retry-transient';

type Ctx = Pick<AppContext, 'db' | 'logger' | 'now'>;
type Loaded = Redemption & { order: Order; bartender: { displayName: string } | null };

/**
 * Bartender steps: scan (PENDING → SCANNED, the tablet holds the drink), then confirm (→ REDEEMED, the
 * hold is captured) or release (→ PENDING). Every step is `UPDATE … WHERE version = <seen>`: PostgreSQL
 * re-checks the WHERE after waiting on a concurrent writer's row lock, so of two tablets on two nodes
 * scanning one code at the same instant exactly one matches and the other sees who won.
 */
export class RedemptionService {
  constructor(
    private readonly ctx: Ctx,
    private readonly money: OrderMoney,
    private readonly notifier: OrderNotifier,
  ) {}

  async scan(code: string, staffId: string, source: Source): Promise<ScanResponse> {
    const r = await this.ctx.db.prisma.redemption.findUnique({ where: { qrCodeHash: hashQrCode(code) }, include: this.include() });
    if (!r) throw new AppError(ErrorCode.NOT_FOUND, 'Unknown QR code');
    await this.requireStaff(r.order.venueId, staffId);
    if (r.status !== 'PENDING') throw conflict(r);
    if (r.order.status !== 'ACCEPTED' || r.order.expiresAt.getTime() <= this.ctx.now()) {
      throw new AppError(ErrorCode.INVALID_TRANSITION, 'This treat can no longer be redeemed', { details: { status: r.order.status } });
    }
    return this.step(r, staffId, source, {
      from: 'PENDING',
      to: 'SCANNED',
      action: 'redemption.scanned',
      data: { bartenderId: staffId, scannedAt: new Date(this.ctx.now()) },
    });
  }

  /**
   * The bartender who scanned it says the drink is served: capture, then record. Capturing first
   * means a refused card is a 402 before anything is marked poured; the Stripe capture is keyed by
   * the order, so a double-tap or a retry after a lost answer captures once.
   */
  async confirm(redemptionId: string, staffId: string, source: Source): Promise<ScanResponse> {
    const r = await this.load(redemptionId);
    await this.requireStaff(r.order.venueId, staffId);
    if (r.status === 'REDEEMED' && r.bartenderId === staffId) return { order: toOrderView(r.order), redemption: toRedemptionView(r) };
    if (r.status !== 'SCANNED') throw conflict(r);
    if (r.bartenderId !== staffId) {
      throw new AppError(ErrorCode.FORBIDDEN, 'Another bartender holds this drink', {
        details: conflictDetails(r) as unknown as Record<string, unknown>,
      });
    }
    // Claim: bumping the version makes a concurrent release (or a second confirm) lose before money moves.
    const claimed = await this.ctx.db.prisma.redemption.updateMany({
      where: { id: r.id, version: r.version, status: 'SCANNED', bartenderId: staffId },
      data: { version: { increment: 1 } },
    });
    if (claimed.count !== 1) {
      const now = await this.load(r.id);
      if (now.status === 'REDEEMED' && now.bartenderId === staffId)
        return { order: toOrderView(now.order), redemption: toRedemptionView(now) };
      throw conflict(now);
    }
    const pi = await this.money.capture(r.order);
    const at = new Date(this.ctx.now());
    await retryTransient(
      () =>
        this.ctx.db.prisma.$transaction(
          async (tx) => {
            // Not conditioned on the version: the money is taken, so the drink is redeemed whatever raced us.
            await tx.redemption.updateMany({
              where: { id: r.id, status: { in: ['SCANNED', 'PENDING'] } },
              data: { status: 'REDEEMED', bartenderId: staffId, redeemedAt: at, version: { increment: 1 } },
            });
            const t = await transitionOrder(tx, r.orderId, OrderEvent.Redeem, at, { capturedAt: at });
            await audit(
              this.ctx,
              {
                userId: staffId,
                action: 'redemption.confirmed',
                resourceType: 'redemption',
                resourceId: r.id,
                changes: { status: ['SCANNED', 'REDEEMED'], orderId: r.orderId },
                ...source,
              },
              tx,
            );
            await audit(
              this.ctx,
              {
                userId: staffId,
                action: 'payment.captured',
                resourceType: 'order',
                resourceId: r.orderId,
                changes: { status: [t.from, t.to], paymentIntentId: pi.id, amountCents: pi.amountReceived },
                ...source,
              },
              tx,
            );
          },
          // A busy pool or a slow lock must not turn a capture into an unredeemed order: wait longer
          // than a request would for a connection and for the statements.
          { maxWait: 10_000, timeout: 10_000 },
        ),
      (err, attempt) => this.ctx.logger.warn({ err, orderId: r.orderId, attempt }, 'captured; marking redeemed failed, retrying'),
    ).catch(async (err: unknown) => {
      // The order ended (a Stripe void, an expiry) while we captured, or PostgreSQL stayed unreachable
      // through every retry: record the capture so the expiry job refunds it, rather than keeping
      // money for an order that says no drink.
      await this.ctx.db.prisma.order.updateMany({
        where: { id: r.orderId, capturedAt: null },
        data: { capturedAt: at, releasedAt: null },
      });
      this.ctx.logger.error({ err, orderId: r.orderId }, 'captured but could not mark redeemed; the money will be refunded');
      throw err;
    });
    const done = await this.load(r.id);
    this.notifier.changed(done.order, done);
    return { order: toOrderView(done.order), redemption: toRedemptionView(done) };
  }

  /** The guest walked away: the code is valid again for any bartender of the venue. */
  async release(redemptionId: string, staffId: string, source: Source): Promise<ScanResponse> {
    const r = await this.load(redemptionId);
    await this.requireStaff(r.order.venueId, staffId);
    if (r.status !== 'SCANNED') throw conflict(r);
    if (r.bartenderId !== staffId) {
      throw new AppError(ErrorCode.FORBIDDEN, 'Another bartender holds this drink', {
        details: conflictDetails(r) as unknown as Record<string, unknown>,
      });
    }
    return this.step(r, staffId, source, {
      from: 'SCANNED',
      to: 'PENDING',
      action: 'redemption.released',
      where: { bartenderId: staffId },
      data: { bartenderId: null, scannedAt: null },
    });
  }

  /**
   * One versioned step of a redemption (`UPDATE … WHERE version = <seen>`) with its audit row in the
   * same transaction; a step another tablet won first answers 409 with who holds it.
   */
  private async step(
    r: { id: string; version: number; orderId: string },
    staffId: string,
    source: Source,
    s: {
      from: RedemptionStatus;
      to: RedemptionStatus;
      action: string;
      where?: Prisma.RedemptionWhereInput;
      data: Prisma.RedemptionUncheckedUpdateManyInput;
    },
  ): Promise<ScanResponse> {
    const won = await this.ctx.db.prisma.$transaction(async (tx) => {
      const { count } = await tx.redemption.updateMany({
        where: { id: r.id, version: r.version, status: s.from, ...s.where },
        data: { status: s.to, ...s.data, version: { increment: 1 } },
      });
      if (count !== 1) return false;
      await audit(
        this.ctx,
        {
          userId: staffId,
          action: s.action,
          resourceType: 'redemption',
          resourceId: r.id,
          changes: { status: [s.from, s.to], orderId: r.orderId },
          ...source,
        },
        tx,
      );
      return true;
    });
    const now = await this.load(r.id);
    if (!won) throw conflict(now);
    this.notifier.changed(now.order, now);
    return { order: toOrderView(now.order), redemption: toRedemptionView(now) };
  }

  private include() {
    return { order: true, bartender: { select: { displayName: true } } } as const;
  }

  private async load(id: string): Promise<Loaded> {
    const r = await this.ctx.db.prisma.redemption.findUnique({ where: { id }, include: this.include() });
    if (!r) throw new AppError(ErrorCode.NOT_FOUND, 'Redemption not found');
    return r;
  }

  private async requireStaff(venueId: string, userId: string): Promise<void> {
    const staff = await this.ctx.db.prisma.venueStaff.findUnique({ where: { venueId_userId: { venueId, userId } }, select: { id: true } });
    if (!staff) throw new AppError(ErrorCode.FORBIDDEN, 'Only staff of this venue can redeem its drinks');
  }
}

function conflictDetails(r: Loaded): RedemptionConflictDetails {
  return {
    status: r.status,
    scannedAt: r.scannedAt?.toISOString() ?? null,
    redeemedAt: r.redeemedAt?.toISOString() ?? null,
    bartenderId: r.bartenderId,
    bartenderName: r.bartender?.displayName ?? null,
  };
}

function conflict(r: Loaded): AppError {
  const d = conflictDetails(r);
  const message =
    r.status === 'SCANNED'
      ? `Already scanned by ${d.bartenderName ?? 'another bartender'} at ${d.scannedAt}`
      : r.status === 'REDEEMED'
        ? `Already redeemed at ${d.redeemedAt}`
        : r.status === 'CANCELLED'
          ? 'This treat was cancelled'
          : 'This code is not held by a bartender';
  return new AppError(ErrorCode.CONFLICT, message, { details: d as unknown as Record<string, unknown> });
}
