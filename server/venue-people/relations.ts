import type { PrismaClient } from '../storage/prisma-types';

export interface Relations {
  isFriend(a: string, b: string): boolean;
  isBlocked(a: string, b: string): boolean;
  /** Whether `userId` is a friend of, or in a block with, anyone asked about: if not, a shared message fits them. */
  hasAny(userId: string): boolean;
}

export const noRelations: Relations = { isFriend: () => false, isBlocked: () => false, hasAny: () => false };

function link(map: Map<string, Set<string>>, a: string, b: string): void {
  let set = map.get(a);
  if (!set) map.set(a, (set = new Set()));
  set.add(b);
}

/**
 * Accepted friendships and blocks (either way) between anyone in `viewers` and anyone in `subjects`, in
 * two queries whatever the sizes: the people list asks about the pairs actually present at a venue,
 * never about whole friend lists.
 */
export async function relationsBetween(prisma: PrismaClient, viewers: string[], subjects: string[]): Promise<Relations> {
  if (viewers.length === 0 || subjects.length === 0) return noRelations;
  const [friendships, blocks] = await Promise.all([
    prisma.friendship.findMany({
      where: {
        status: 'ACCEPTED',
        OR: [
          { requesterId: { in: viewers }, addresseeId: { in: subjects } },
          { requesterId: { in: subjects }, addresseeId: { in: viewers } },
        ],
      },
      select: { requesterId: true, addresseeId: true },
    }),
    prisma.block.findMany({
      where: {
        OR: [
          { blockerId: { in: viewers }, blockedId: { in: subjects } },
          { blockerId: { in: subjects }, blockedId: { in: viewers } },
        ],
      },
      select: { blockerId: true, blockedId: true },
    }),
  ]);
  const friends = new Map<string, Set<string>>();
  const blocked = new Map<string, Set<string>>();
  for (const f of friendships) {
    link(friends, f.requesterId, f.addresseeId);
    link(friends, f.addresseeId, f.requesterId);
  }
  for (const b of blocks) {
    link(blocked, b.blockerId, b.blockedId);
    link(blocked, b.blockedId, b.blockerId);
  }
  const isBlocked = (a: string, b: string) => blocked.get(a)?.has(b) ?? false;
  return {
    // A block normally deletes the friendship; this is the belt for a block racing an accept.
    isFriend: (a, b) => (friends.get(a)?.has(b) ?? false) && !isBlocked(a, b),
    isBlocked,
    hasAny: (u) => friends.has(u) || blocked.has(u),
  };
}

export type PublicProfile = { displayName: string; profileImageUrl: string | null };

export async function profilesOf(prisma: PrismaClient, userIds: string[]): Promise<Map<string, PublicProfile>> {
  if (userIds.length === 0) return new Map();
  const rows = await prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, displayName: true, profileImageUrl: true } });
  return new Map(rows.map((r) => [r.id, { displayName: r.displayName, profileImageUrl: r.profileImageUrl }]));
}
