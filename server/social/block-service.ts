import { ErrorCode } from '../../protocol/errors';
import type { BlocksResponse } from '../../protocol/http/social';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { friendsChanged } from './friend-cache';
import { toPublicUser } from './friends';

type Source = { ip: string | null; userAgent: string | null };

/** After the row is written: every node forgets the two's friends, other features hear of it, and it is audited. */
async function blockChanged(ctx: AppContext, me: string, other: string, blockId: string, action: string, source: Source): Promise<void> {
  friendsChanged(ctx, [me, other]);
  ctx.hooks.emit('blockChanged', me, other);
  await audit(ctx, { userId: me, action, resourceType: 'block', resourceId: blockId, changes: { blockedId: other }, ...source });
}

/** Blocking also ends any friendship or pending request between the two, in the same transaction. */
export async function blockUser(ctx: AppContext, me: string, other: string, source: Source): Promise<void> {
  if (me === other) throw new AppError(ErrorCode.VALIDATION, 'You cannot block yourself');
  const prisma = ctx.db.prisma;
  const target = await prisma.user.findUnique({ where: { id: other }, select: { id: true } });
  if (!target) throw new AppError(ErrorCode.NOT_FOUND, 'No such user');
  const block = await prisma.$transaction(async (tx) => {
    await tx.friendship.deleteMany({
      where: {
        OR: [
          { requesterId: me, addresseeId: other },
          { requesterId: other, addresseeId: me },
        ],
      },
    });
    return tx.block.upsert({
      where: { blockerId_blockedId: { blockerId: me, blockedId: other } },
      update: {},
      create: { blockerId: me, blockedId: other },
    });
  });
  await blockChanged(ctx, me, other, block.id, AuditAction.UserBlocked, source);
}

export async function unblockUser(ctx: AppContext, me: string, other: string, source: Source): Promise<void> {
  const prisma = ctx.db.prisma;
  const block = await prisma.block.findUnique({ where: { blockerId_blockedId: { blockerId: me, blockedId: other } } });
  if (!block) throw new AppError(ErrorCode.NOT_FOUND, 'You have not blocked this user');
  await prisma.block.deleteMany({ where: { id: block.id } });
  await blockChanged(ctx, me, other, block.id, AuditAction.UserUnblocked, source);
}

/** Only the blocks I made: who blocked me is never revealed. */
export async function listBlocks(ctx: AppContext, me: string): Promise<BlocksResponse> {
  const rows = await ctx.db.prisma.block.findMany({
    where: { blockerId: me },
    include: { blocked: { select: { id: true, displayName: true, profileImageUrl: true } } },
    orderBy: { createdAt: 'desc' },
  });
  return { blocked: rows.map((b) => ({ ...toPublicUser(b.blocked), blockedAt: b.createdAt.toISOString() })) };
}
