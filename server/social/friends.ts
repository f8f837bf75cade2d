import type { PublicUser } from '../../protocol/http/common';
import type { AppContext } from '../context';
import { blockedEitherWay } from './blocks';

type Prisma = AppContext['db']['prisma'];

const publicUserSelect = { id: true, displayName: true, profileImageUrl: true } as const;

export function toPublicUser(u: { id: string; displayName: string; profileImageUrl: string | null }): PublicUser {
  return { id: u.id, displayName: u.displayName, profileImageUrl: u.profileImageUrl };
}

/** The pair's friendship row in either direction, if any. */
export async function friendshipBetween(prisma: Pick<Prisma, 'friendship'>, a: string, b: string) {
  return prisma.friendship.findFirst({
    where: {
      OR: [
        { requesterId: a, addresseeId: b },
        { requesterId: b, addresseeId: a },
      ],
    },
  });
}

export async function areFriends(prisma: Prisma, a: string, b: string): Promise<boolean> {
  const f = await friendshipBetween(prisma, a, b);
  return f?.status === 'ACCEPTED';
}

/** Accepted friends, minus anyone blocked either way (a block normally deletes the friendship; this is the belt). */
export async function listFriends(prisma: Prisma, userId: string): Promise<(PublicUser & { since: Date })[]> {
  const [rows, blocked] = await Promise.all([
    prisma.friendship.findMany({
      where: { status: 'ACCEPTED', OR: [{ requesterId: userId }, { addresseeId: userId }] },
      include: { requester: { select: publicUserSelect }, addressee: { select: publicUserSelect } },
      orderBy: { acceptedAt: 'asc' },
    }),
    blockedEitherWay(prisma, userId),
  ]);
  return rows
    .map((f) => ({ ...toPublicUser(f.requesterId === userId ? f.addressee : f.requester), since: f.acceptedAt ?? f.updatedAt }))
    .filter((f) => !blocked.has(f.id));
}
