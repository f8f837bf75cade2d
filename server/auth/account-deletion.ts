import { ErrorCode } from '../../protocol/errors';
import type { DeleteAccountBody, DeleteAccountResponse } from '../../protocol/http/account';
import { audit } from '../audit/audit';
import type { AppContext } from '../context';
import type { DeviceDirectory } from '../devices/device-directory';
import { AppError } from '../errors';
import type { Orders } from '../orders/orders-module';
import type { Realtime } from '../realtime/realtime-feature';
import { verifyCode, type OneTimeCodes } from './codes/one-time-codes';
import { revokeAllForUser } from './refresh-tokens';
import { endLiveSessions } from './session-revocation';

type Source = { ip: string | null; userAgent: string | null };

export interface AccountDeletionDeps {
  realtime: Pick<Realtime, 'fanout' | 'journal'>;
  orders: Pick<Orders, 'orders' | 'expiry'>;
  devices: DeviceDirectory;
  codes: OneTimeCodes;
}

/** What a deleted account's row keeps: nothing that names or reaches the person. */
const ANONYMOUS = {
  email: null,
  phone: null,
  displayName: 'Deleted account',
  googleId: null,
  facebookId: null,
  instagramId: null,
  appleId: null,
  tiktokId: null,
  snapchatId: null,
  twitterId: null,
  emailVerified: false,
  phoneVerified: false,
  profileImageUrl: null,
  bio: null,
} as const;

/**
 * Account deletion, as app stores require. The user row stays (orders, redemptions and audit rows
 * reference it: the money trail must survive) but is anonymized and marked deleted, which every
 * credential check refuses. Sessions end first, so nothing the person still holds can act meanwhile.
 */
export async function deleteAccount(
  ctx: AppContext,
  deps: AccountDeletionDeps,
  userId: string,
  body: DeleteAccountBody,
  source: Source,
): Promise<DeleteAccountResponse> {
  const prisma = ctx.db.prisma;
  const user = await prisma.user.findUnique({ where: { id: userId } });
  if (!user || user.deletedAt) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
  const own = body.channel === 'email' ? user.email : user.phone;
  // Checked before the code is spent: verifying a code for someone else's address would sign them in.
  if (own !== body.destination) {
    throw new AppError(ErrorCode.FORBIDDEN, 'Confirm with a code sent to this account’s own email or phone');
  }
  const verified = await verifyCode(ctx, deps.codes, body);
  if (verified.id !== userId) throw new AppError(ErrorCode.FORBIDDEN, 'That code confirms another account');

  await endLiveSessions(ctx, userId, { forever: true });
  await revokeAllForUser(ctx, userId, source);

  // The stay ends like a leave: counts and people lists everywhere update.
  const now = ctx.now();
  const left = await ctx.presence.leave(userId, now);
  deps.realtime.fanout.publish(left.changes);
  if (left.venueId) deps.realtime.journal.record(userId, null, left.venueId);

  const endedOrders = await endOpenOrders(ctx, deps, userId, source);

  const devices = await prisma.device.findMany({ where: { userId }, select: { token: true } });
  const directory = deps.devices;
  for (const d of devices) await directory.remove(userId, d.token);

  await prisma.$transaction(async (tx) => {
    await tx.device.deleteMany({ where: { userId } });
    await tx.friendship.deleteMany({ where: { OR: [{ requesterId: userId }, { addresseeId: userId }] } });
    await tx.block.deleteMany({ where: { OR: [{ blockerId: userId }, { blockedId: userId }] } });
    await tx.groupMember.deleteMany({ where: { userId } });
    await tx.group.deleteMany({ where: { members: { none: {} } } });
    await tx.venueStaff.deleteMany({ where: { userId } });
    await tx.user.update({ where: { id: userId }, data: { ...ANONYMOUS, deletedAt: new Date(now) } });
    await audit(
      ctx,
      {
        userId,
        action: 'account.deleted',
        resourceType: 'user',
        resourceId: userId,
        changes: { endedOrders, devices: devices.length },
        ...source,
      },
      tx,
    );
  });
  ctx.credentials.forget(userId);
  return { deleted: true, endedOrders };
}

/**
 * Open treats end through the orders module's own paths, each releasing its card hold: the buyer's
 * unanswered ones are cancelled, paid ones waiting for this recipient are rejected, and the rest
 * (accepted, or unpaid to this person) are expired at once by the expiry job. A drink a bartender is
 * scanning right now is left to finish or to the job.
 */
async function endOpenOrders(ctx: AppContext, deps: AccountDeletionDeps, userId: string, source: Source): Promise<number> {
  const prisma = ctx.db.prisma;
  const open = await prisma.order.findMany({
    where: { OR: [{ buyerId: userId }, { recipientId: userId }], status: { in: ['PENDING', 'PAID', 'ACCEPTED'] } },
    select: { id: true, buyerId: true, status: true },
  });
  let ended = 0;
  const dueNow: string[] = [];
  for (const o of open) {
    try {
      if (o.buyerId === userId && o.status !== 'ACCEPTED') {
        await deps.orders.orders.cancel(o.id, userId, source);
        ended++;
      } else if (o.status === 'PAID') {
        await deps.orders.orders.reject(o.id, userId, source);
        ended++;
      } else {
        // Accepted either way, or an unpaid treat to this person: nothing left to answer, so it expires now.
        dueNow.push(o.id);
      }
    } catch (err) {
      // Moved on meanwhile (paid, scanned, expired): whatever state it reached has its own way out.
      ctx.logger.warn({ err, orderId: o.id, userId }, 'ending an order during account deletion failed');
    }
  }
  if (dueNow.length > 0) {
    const now = ctx.now();
    await prisma.order.updateMany({
      where: { id: { in: dueNow }, status: { in: ['PENDING', 'PAID', 'ACCEPTED'] } },
      data: { expiresAt: new Date(now) },
    });
    const run = await deps.orders.expiry.runOnce(now);
    ended += run.expired.filter((id) => dueNow.includes(id)).length;
  }
  return ended;
}
