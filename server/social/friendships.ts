import { ErrorCode } from '../../protocol/errors';
import type { FriendsResponse, FriendshipResponse } from '../../protocol/http/social';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { blockedEitherWay, isBlockedEitherWay } from './blocks';
import { friendsChanged } from './friend-cache';
import { friendshipBetween, listFriends, toPublicUser } from './friends';

type Source = { ip: string | null; userAgent: string | null };

async function requireUserExists(ctx: AppContext, userId: string): Promise<void> {
  const u = await ctx.db.prisma.user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!u) throw new AppError(ErrorCode.NOT_FOUND, 'No such user');
}

/**
 * Sends a friend request; if the other person already asked me, this accepts theirs instead (both
 * wanted it). A block either way answers 404, as if the user did not exist: a blocked person must not
 * learn they were blocked by probing.
 */
export async function requestFriendship(ctx: AppContext, me: string, other: string, source: Source): Promise<FriendshipResponse> {
  if (me === other) throw new AppError(ErrorCode.VALIDATION, 'You cannot befriend yourself');
  await requireUserExists(ctx, other);
  if (await isBlockedEitherWay(ctx.db.prisma, me, other)) throw new AppError(ErrorCode.NOT_FOUND, 'No such user');
  const existing = await friendshipBetween(ctx.db.prisma, me, other);
  if (existing?.status === 'ACCEPTED') return { userId: other, state: 'friends' };
  if (existing && existing.requesterId === me) return { userId: other, state: 'outgoing' };
  if (existing) return acceptFriendship(ctx, me, other, source);
  try {
    const f = await ctx.db.prisma.friendship.create({ data: { requesterId: me, addresseeId: other } });
    await audit(ctx, {
      userId: me,
      action: AuditAction.FriendRequested,
      resourceType: 'friendship',
      resourceId: f.id,
      changes: { addresseeId: other },
      ...source,
    });
  } catch (err) {
    // Both asked at the same instant: the unique pair index let one in; report what now exists.
    const now = await friendshipBetween(ctx.db.prisma, me, other);
    if (!now) throw err;
    return { userId: other, state: now.status === 'ACCEPTED' ? 'friends' : now.requesterId === me ? 'outgoing' : 'incoming' };
  }
  return { userId: other, state: 'outgoing' };
}

/** Accepts the pending request `other` sent me. Only the addressee can accept. */
export async function acceptFriendship(ctx: AppContext, me: string, other: string, source: Source): Promise<FriendshipResponse> {
  const prisma = ctx.db.prisma;
  const { count } = await prisma.friendship.updateMany({
    where: { requesterId: other, addresseeId: me, status: 'PENDING' },
    data: { status: 'ACCEPTED', acceptedAt: new Date(ctx.now()) },
  });
  if (count === 0) {
    const existing = await friendshipBetween(prisma, me, other);
    if (existing?.status === 'ACCEPTED') return { userId: other, state: 'friends' };
    throw new AppError(ErrorCode.NOT_FOUND, 'No pending request from this user');
  }
  friendsChanged(ctx, [me, other]);
  const f = await friendshipBetween(prisma, me, other);
  await audit(ctx, {
    userId: me,
    action: AuditAction.FriendAccepted,
    resourceType: 'friendship',
    resourceId: f?.id ?? `${other}:${me}`,
    changes: { requesterId: other },
    ...source,
  });
  return { userId: other, state: 'friends' };
}

/** Unfriends, declines an incoming request or cancels an outgoing one. */
export async function removeFriendship(ctx: AppContext, me: string, other: string, source: Source): Promise<void> {
  const f = await friendshipBetween(ctx.db.prisma, me, other);
  if (!f) throw new AppError(ErrorCode.NOT_FOUND, 'No friendship or request with this user');
  await ctx.db.prisma.friendship.deleteMany({ where: { id: f.id } });
  if (f.status === 'ACCEPTED') friendsChanged(ctx, [me, other]);
  await audit(ctx, {
    userId: me,
    action: AuditAction.FriendRemoved,
    resourceType: 'friendship',
    resourceId: f.id,
    changes: { otherUserId: other, was: f.status },
    ...source,
  });
}

export async function friendsOverview(ctx: AppContext, me: string): Promise<FriendsResponse> {
  const prisma = ctx.db.prisma;
  const select = { id: true, displayName: true, profileImageUrl: true } as const;
  const [friends, incoming, outgoing, blocked] = await Promise.all([
    listFriends(prisma, me),
    prisma.friendship.findMany({
      where: { addresseeId: me, status: 'PENDING' },
      include: { requester: { select } },
      orderBy: { createdAt: 'desc' },
    }),
    prisma.friendship.findMany({
      where: { requesterId: me, status: 'PENDING' },
      include: { addressee: { select } },
      orderBy: { createdAt: 'desc' },
    }),
    blockedEitherWay(prisma, me),
  ]);
  return {
    friends: friends.map((f) => ({ ...toPublicUser(f), since: f.since.toISOString() })),
    incoming: incoming
      .filter((f) => !blocked.has(f.requesterId))
      .map((f) => ({ ...toPublicUser(f.requester), requestedAt: f.createdAt.toISOString() })),
    outgoing: outgoing
      .filter((f) => !blocked.has(f.addresseeId))
      .map((f) => ({ ...toPublicUser(f.addressee), requestedAt: f.createdAt.toISOString() })),
  };
}
