import { ErrorCode } from '../../protocol/errors';
import type { GroupView } from '../../protocol/http/social';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import type { PushSender } from '../devices/push-sender';
import { AppError } from '../errors';
import { isBlockedEitherWay } from './blocks';
import { toPublicUser } from './friends';
import type { GroupInvites } from './group-invites';

type Source = { ip: string | null; userAgent: string | null };

/** A group is a night out among friends, not a broadcast list. */
export const MAX_GROUP_MEMBERS = 50;

const groupInclude = {
  currentVenue: { select: { id: true, slug: true, name: true, latitude: true, longitude: true } },
  members: {
    include: { user: { select: { id: true, displayName: true, profileImageUrl: true } } },
    orderBy: { joinedAt: 'asc' },
  },
} as const;

type Loaded = NonNullable<Awaited<ReturnType<typeof loadGroup>>>;

function loadGroup(ctx: AppContext, groupId: string) {
  return ctx.db.prisma.group.findUnique({ where: { id: groupId }, include: groupInclude });
}

function toView(g: Loaded): GroupView {
  return {
    id: g.id,
    name: g.name,
    currentVenue: g.currentVenue,
    members: g.members.map((m) => ({ ...toPublicUser(m.user), isOwner: m.isOwner, joinedAt: m.joinedAt.toISOString() })),
    createdAt: g.createdAt.toISOString(),
  };
}

/** The group, if `me` is in it. Non-members get 404, the same as a group that does not exist. */
async function groupForMember(ctx: AppContext, groupId: string, me: string): Promise<Loaded> {
  const g = await loadGroup(ctx, groupId);
  if (!g || !g.members.some((m) => m.userId === me)) throw new AppError(ErrorCode.NOT_FOUND, 'No such group');
  return g;
}

export async function createGroup(ctx: AppContext, me: string, name: string, source: Source): Promise<GroupView> {
  const created = await ctx.db.prisma.group.create({
    data: { name, members: { create: { userId: me, isOwner: true } } },
    include: groupInclude,
  });
  await audit(ctx, {
    userId: me,
    action: AuditAction.GroupCreated,
    resourceType: 'group',
    resourceId: created.id,
    changes: { name },
    ...source,
  });
  return toView(created);
}

export async function myGroups(ctx: AppContext, me: string): Promise<GroupView[]> {
  const groups = await ctx.db.prisma.group.findMany({
    where: { members: { some: { userId: me } } },
    include: groupInclude,
    orderBy: { createdAt: 'desc' },
  });
  return groups.map(toView);
}

export async function getGroup(ctx: AppContext, groupId: string, me: string): Promise<GroupView> {
  return toView(await groupForMember(ctx, groupId, me));
}

export async function inviteToGroup(
  ctx: AppContext,
  deps: { push: PushSender; invites: GroupInvites },
  groupId: string,
  me: string,
  inviteeId: string,
  source: Source,
) {
  const g = await groupForMember(ctx, groupId, me);
  if (inviteeId === me) throw new AppError(ErrorCode.VALIDATION, 'You are already in this group');
  const invitee = await ctx.db.prisma.user.findUnique({ where: { id: inviteeId }, select: { id: true } });
  if (!invitee || (await isBlockedEitherWay(ctx.db.prisma, me, inviteeId))) throw new AppError(ErrorCode.NOT_FOUND, 'No such user');
  if (g.members.some((m) => m.userId === inviteeId)) throw new AppError(ErrorCode.CONFLICT, 'Already a member');
  if (g.members.length >= MAX_GROUP_MEMBERS)
    throw new AppError(ErrorCode.LIMIT_REACHED, `A group has at most ${MAX_GROUP_MEMBERS} members`);
  const invite = deps.invites.sign(groupId, inviteeId, me);
  await audit(ctx, {
    userId: me,
    action: AuditAction.GroupInvited,
    resourceType: 'group',
    resourceId: groupId,
    changes: { inviteeId },
    ...source,
  });
  await deps.push.send(inviteeId, {
    title: 'Group invite',
    body: `You are invited to ${g.name}`,
    data: { type: 'group-invite', groupId, inviteCode: invite.code },
  });
  return { inviteCode: invite.code, expiresAt: invite.expiresAt.toISOString() };
}

export async function joinGroup(
  ctx: AppContext,
  invites: GroupInvites,
  groupId: string,
  me: string,
  inviteCode: string,
  source: Source,
): Promise<GroupView> {
  const claims = invites.verify(inviteCode);
  if (claims.gid !== groupId || claims.inv !== me)
    throw new AppError(ErrorCode.FORBIDDEN, 'This invite is not for you or not for this group');
  const g = await loadGroup(ctx, groupId);
  if (!g) throw new AppError(ErrorCode.NOT_FOUND, 'No such group');
  if (g.members.some((m) => m.userId === me)) return toView(g);
  if (!g.members.some((m) => m.userId === claims.by))
    throw new AppError(ErrorCode.FORBIDDEN, 'The inviter has left this group; ask for a new invite');
  if (await isBlockedEitherWay(ctx.db.prisma, me, claims.by)) throw new AppError(ErrorCode.FORBIDDEN, 'Invite no longer valid');
  if (g.members.length >= MAX_GROUP_MEMBERS)
    throw new AppError(ErrorCode.LIMIT_REACHED, `A group has at most ${MAX_GROUP_MEMBERS} members`);
  await ctx.db.prisma.groupMember.upsert({
    where: { groupId_userId: { groupId, userId: me } },
    update: {},
    create: { groupId, userId: me },
  });
  await audit(ctx, {
    userId: me,
    action: AuditAction.GroupJoined,
    resourceType: 'group',
    resourceId: groupId,
    changes: { invitedBy: claims.by },
    ...source,
  });
  return getGroup(ctx, groupId, me);
}

/** Leaving hands ownership to the longest-standing member; the last one out deletes the group. */
export async function leaveGroup(ctx: AppContext, groupId: string, me: string, source: Source): Promise<{ deleted: boolean }> {
  const g = await groupForMember(ctx, groupId, me);
  const mine = g.members.find((m) => m.userId === me)!;
  const rest = g.members.filter((m) => m.userId !== me);
  const deleted = await ctx.db.prisma.$transaction(async (tx) => {
    await tx.groupMember.deleteMany({ where: { groupId, userId: me } });
    const left = await tx.groupMember.findMany({ where: { groupId }, orderBy: { joinedAt: 'asc' }, take: 1 });
    if (left.length === 0) {
      await tx.group.deleteMany({ where: { id: groupId } });
      return true;
    }
    if (mine.isOwner && !rest.some((m) => m.isOwner && m.userId !== me)) {
      await tx.groupMember.update({ where: { id: left[0]!.id }, data: { isOwner: true } });
    }
    return false;
  });
  await audit(ctx, {
    userId: me,
    action: deleted ? AuditAction.GroupDeleted : AuditAction.GroupLeft,
    resourceType: 'group',
    resourceId: groupId,
    ...source,
  });
  return { deleted };
}

export async function setGroupVenue(
  ctx: AppContext,
  groupId: string,
  me: string,
  venueId: string | null,
  source: Source,
): Promise<GroupView> {
  const g = await groupForMember(ctx, groupId, me);
  if (venueId !== null) {
    const venue = await ctx.db.prisma.venue.findUnique({ where: { id: venueId }, select: { id: true } });
    if (!venue) throw new AppError(ErrorCode.NOT_FOUND, 'No such venue');
  }
  await ctx.db.prisma.group.update({ where: { id: groupId }, data: { currentVenueId: venueId } });
  await audit(ctx, {
    userId: me,
    action: AuditAction.GroupVenueSet,
    resourceType: 'group',
    resourceId: groupId,
    changes: { currentVenueId: [g.currentVenueId, venueId] },
    ...source,
  });
  return getGroup(ctx, groupId, me);
}
