import { audit } from '../audit/audit';
import type { AppContext } from '../context';
import type { Job } from '../lib/job';
import type { OrderMoney } from './order-money';
import { warnExpiringSoon } from './expiring-soon';
import type { OrderNotifier } from './order-notifier';
import { OPEN_STATUSES, OrderEvent, tryTransitionOrder } from './order-state-machine';

/** A scanned code older than this no longer protects its order from expiry (the tablet was abandoned). */
export const STALE_SCAN_MS = 15 * 60_000;
const BATCH = 100;

export interface ExpiryRun {
  expired: string[];
  released: string[];
  /** Orders whose recipient got the "expires soon" push in this pass. */
  warned: string[];
}

type Ctx = Pick<AppContext, 'db' | 'logger' | 'now' | 'locks'>;

export interface OrderExpirySettings {
  sweepIntervalMs: number;
  /** How long before its expiry an unredeemed drink's recipient is reminded; 0 sends no reminder. */
  expiringSoonMinutes: number;
}

/**
 * Ends orders 24 h after creation and gives their money back; also finishes any release still owed
 * (Stripe was down when an order was rejected, a late authorization arrived for an ended order).
 *
 * Safe on several nodes at once without coordination: each expiry is a compare-and-set on the order's
 * status, and each release is keyed by order at Stripe and conditional on `releasedAt` here. The lease
 * only saves duplicate work. A drink a bartender is holding right now (SCANNED) is left alone until
 * released or stale, so a confirm in progress never races an expiry.
 */
export class OrderExpiryJob implements Job {
  readonly name = 'order-expiry';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly money: OrderMoney,
    private readonly notifier: OrderNotifier,
    private readonly settings: OrderExpirySettings,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.settings.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    const lease = 'orders:expiry';
    this.running = (async () => {
      if (!(await this.ctx.locks.tryAcquire(lease, this.settings.sweepIntervalMs * 2))) return;
      try {
        await this.runOnce(this.ctx.now());
      } finally {
        await this.ctx.locks.release(lease).catch(() => {});
      }
    })()
      .catch((err: unknown) => this.ctx.logger.error({ err }, 'order expiry run failed'))
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
  }

  /** One pass at time `now` (tests pass a time 24 h ahead instead of waiting). */
  async runOnce(now: number): Promise<ExpiryRun> {
    const prisma = this.ctx.db.prisma;
    const run: ExpiryRun = { expired: [], released: [], warned: [] };
    const due = await prisma.order.findMany({
      where: { status: { in: [...OPEN_STATUSES] }, expiresAt: { lte: new Date(now) } },
      orderBy: { expiresAt: 'asc' },
      take: BATCH,
      select: { id: true },
    });
    for (const { id } of due) {
      if (await this.expire(id, now)) run.expired.push(id);
    }
    const owed = await prisma.order.findMany({
      where: { status: { in: ['REJECTED', 'CANCELLED', 'EXPIRED'] }, releasedAt: null },
      orderBy: { updatedAt: 'asc' },
      take: BATCH,
      select: { id: true },
    });
    for (const { id } of owed) {
      const outcome = await this.money.release(id);
      if (outcome === 'cancelled' || outcome === 'refunded' || outcome === 'nothing_held') run.released.push(id);
    }
    run.warned = await warnExpiringSoon(this.ctx, this.notifier, this.settings.expiringSoonMinutes, now);
    if (run.expired.length || run.released.length)
      this.ctx.logger.info({ expired: run.expired.length, released: run.released.length }, 'order expiry pass');
    return run;
  }

  private async expire(orderId: string, now: number): Promise<boolean> {
    const at = new Date(now);
    const done = await this.ctx.db.prisma.$transaction(async (tx) => {
      const r = await tx.redemption.findUnique({ where: { orderId } });
      if (r) {
        const stale = r.status === 'SCANNED' && r.updatedAt.getTime() < now - STALE_SCAN_MS;
        if (r.status === 'SCANNED' && !stale) return false;
        if (r.status === 'PENDING' || stale) {
          const { count } = await tx.redemption.updateMany({
            where: { id: r.id, version: r.version, status: r.status },
            data: { status: 'CANCELLED', cancelledAt: at, version: { increment: 1 } },
          });
          if (count !== 1) return false;
        }
      }
      const t = await tryTransitionOrder(tx, orderId, OrderEvent.Expire, at);
      if (!t) return false;
      await audit(
        this.ctx,
        {
          userId: null,
          action: 'order.expired',
          resourceType: 'order',
          resourceId: orderId,
          changes: { status: [t.from, t.to] },
          ip: null,
          userAgent: null,
        },
        tx,
      );
      return true;
    });
    if (!done) return false;
    await this.money.release(orderId);
    const order = await this.ctx.db.prisma.order.findUnique({ where: { id: orderId }, include: { redemption: true } });
    if (order) {
      try {
        this.notifier.changed(order, order.redemption);
      } catch (err) {
        this.ctx.logger.warn({ err, orderId }, 'order notification failed');
      }
    }
    return true;
  }
}
