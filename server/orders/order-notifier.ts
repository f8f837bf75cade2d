import { Rooms } from '../../protocol/events';
import type { AppContext } from '../context';
import { PushKind, pushText } from '../devices/push-messages';
import type { PushSender } from '../devices/push-sender';
import type { Order, Redemption } from '../storage/prisma-types';
import { toOrderView, toRedemptionView } from './order-views';

/**
 * Who hears about an order change. Socket emits go through the Redis adapter, so the buyer, the
 * recipient and the venue's tablets hear it whichever node they are connected to. Nothing here may
 * fail the money step that triggered it: it runs after the commit and only logs its own errors.
 */
export class OrderNotifier {
  constructor(
    private readonly ctx: Pick<AppContext, 'io' | 'logger' | 'db'>,
    private readonly push: PushSender | undefined,
  ) {}

  created(order: Order): void {
    this.ctx.io.to(Rooms.user(order.buyerId)).emit('order:updated', { order: toOrderView(order) });
  }

  /** Money is held: now the treat is real for the recipient and the bar. */
  paid(order: Order): void {
    const view = toOrderView(order);
    this.ctx.io.to(Rooms.user(order.buyerId)).emit('order:updated', { order: view });
    this.ctx.io.to(Rooms.user(order.recipientId)).emit('order:received', { order: view });
    this.ctx.io.to(Rooms.staff(order.venueId)).emit('order:paid', { order: view });
    void this.pushTo(order.recipientId, order, PushKind.OrderReceived);
  }

  accepted(order: Order, redemption: Redemption): void {
    const view = toOrderView(order);
    const r = toRedemptionView(redemption);
    this.ctx.io.to([Rooms.user(order.buyerId), Rooms.user(order.recipientId)]).emit('order:updated', { order: view, redemption: r });
    this.ctx.io.to(Rooms.staff(order.venueId)).emit('redemption:new', { order: view, redemption: r });
    void this.pushTo(order.buyerId, order, PushKind.OrderAccepted);
  }

  /** Any other change (rejected, cancelled, expired, scanned, released, redeemed). */
  changed(order: Order, redemption?: Redemption | null): void {
    const msg = { order: toOrderView(order), ...(redemption ? { redemption: toRedemptionView(redemption) } : {}) };
    const rooms = [Rooms.user(order.buyerId), Rooms.user(order.recipientId)];
    // Tablets only ever saw paid orders; they need to drop or update those.
    if (order.paidAt) rooms.push(Rooms.staff(order.venueId));
    this.ctx.io.to(rooms).emit('order:updated', msg);
    if (order.status === 'REJECTED') void this.pushTo(order.buyerId, order, PushKind.OrderRejected);
    if (order.status === 'REDEEMED') {
      void this.pushTo(order.buyerId, order, PushKind.OrderRedeemed);
      void this.pushTo(order.recipientId, order, PushKind.OrderRedeemed);
    }
  }

  /** The recipient's accepted treat is about to expire unredeemed (sent once per order by the expiry job). */
  expiringSoon(order: Order): Promise<void> {
    return this.pushTo(order.recipientId, order, PushKind.OrderExpiring);
  }

  private async pushTo(userId: string, order: Order, kind: PushKind): Promise<void> {
    if (!this.push) return;
    try {
      const { title, body } = pushText(kind, null);
      await this.push.send(userId, { title, body, kind, collapseId: order.id, data: { orderId: order.id, status: order.status, kind } });
    } catch (err) {
      this.ctx.logger.warn({ err, orderId: order.id, userId }, 'push notification failed');
    }
  }
}
