import { Router } from 'express';
import { ErrorCode } from '../../../protocol/errors';
import { IdParams } from '../../../protocol/http/common';
import type { StaffOrdersResponse, StaffVenuesResponse } from '../../../protocol/http/staff';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { toOrderView, toRedemptionView } from '../../orders/order-views';
import { requireUser, userIdOf } from '../auth-middleware';
import { parseInput } from '../validate';

/** More than a bar could pour in one night; a tablet only needs the open ones. */
const MAX_OPEN_ORDERS = 200;

/**
 * What a bartender tablet reads over REST: the venues its user is staff of, and the venue's open
 * (paid or accepted, unexpired) orders. The tablet re-reads the list after every (re)connect, because
 * `order:paid` / `redemption:new` sent while it was offline are not replayed by the socket.
 */
export function staffOrderRoutes(ctx: Pick<AppContext, 'db' | 'tokens' | 'now'>): Router {
  const router = Router();
  const signedIn = requireUser(ctx.tokens);

  router.get('/api/staff/venues', signedIn, async (_req, res) => {
    const rows = await ctx.db.prisma.venueStaff.findMany({
      where: { userId: userIdOf(res) },
      include: { venue: { select: { id: true, slug: true, name: true, address: true } } },
      orderBy: { createdAt: 'asc' },
    });
    const body: StaffVenuesResponse = { venues: rows.map((r) => ({ ...r.venue, role: r.role })) };
    res.json(body);
  });

  router.get('/api/staff/venues/:id/orders', signedIn, async (req, res) => {
    const { id: venueId } = parseInput(IdParams, req.params, 'venue id');
    const userId = userIdOf(res);
    const staff = await ctx.db.prisma.venueStaff.findUnique({ where: { venueId_userId: { venueId, userId } }, select: { id: true } });
    if (!staff) throw new AppError(ErrorCode.FORBIDDEN, 'Only staff of this venue can see its orders');
    const rows = await ctx.db.prisma.order.findMany({
      where: { venueId, status: { in: ['PAID', 'ACCEPTED'] }, expiresAt: { gt: new Date(ctx.now()) } },
      include: { redemption: true, buyer: { select: { displayName: true } }, recipient: { select: { displayName: true } } },
      orderBy: { createdAt: 'asc' },
      take: MAX_OPEN_ORDERS,
    });
    const body: StaffOrdersResponse = {
      venueId,
      orders: rows.map((o) => ({
        order: toOrderView(o),
        redemption: o.redemption ? toRedemptionView(o.redemption) : null,
        buyerName: o.buyer.displayName,
        recipientName: o.recipient.displayName,
      })),
    };
    res.json(body);
  });

  return router;
}
