import type { AppContext } from '../context';

type Prisma = AppContext['db']['prisma'];

/** True when either user blocked the other: then neither sees, befriends, invites or treats the other. */
export async function isBlockedEitherWay(prisma: Prisma, a: string, b: string): Promise<boolean> {
  const hit = await prisma.block.findFirst({
    where: {
      OR: [
        { blockerId: a, blockedId: b },
        { blockerId: b, blockedId: a },
      ],
    },
    select: { id: true },
  });
  return hit !== null;
}

/** Everyone `userId` blocked or was blocked by, for filtering lists in one query. */
export async function blockedEitherWay(prisma: Prisma, userId: string): Promise<Set<string>> {
  const rows = await prisma.block.findMany({
    where: { OR: [{ blockerId: userId }, { blockedId: userId }] },
    select: { blockerId: true, blockedId: true },
  });
  return new Set(rows.map((r) => (r.blockerId === userId ? r.blockedId : r.blockerId)));
}
