import type { PresenceEvent } from '../presence/presence-journal';
import type { FlushScope } from '../presence/presence-journal';
import type { PrismaClient } from '../storage/prisma-types';

export interface Relations {
  isFriend(a: string, b: string): boolean;
  isBlocked(a: string, b: string): boolean;
  /** Whether `userId` is a friend of, or in a block with, anyone asked about: if not, a shared message fits them. */
  hasAny(userId: string): boolean;
  /** Whether `userId` is a friend of, or in a block with, anyone in `others` (one venue's share of a wider read). */
  hasAnyIn(userId: string, others: ReadonlySet<string>): boolean;
}

export const noRelations: Relations = { isFriend: () => false, isBlocked: () => false, hasAny: () => false, hasAnyIn: () => false };

function link(map: Map<string, Set<string>>, a: string, b: string): void {
  let set = map.get(a);
  if (!set) map.set(a, (set = new Set()));
  set.add(b);
}

type Pair = { k: 'f' | 'b'; a: string; b: string };

function relationsOf(pairs: Pair[]): Relations {
  const friends = new Map<string, Set<string>>();
  const blocked = new Map<string, Set<string>>();
  for (const p of pairs) {
    const into = p.k === 'f' ? friends : blocked;
    link(into, p.a, p.b);
    link(into, p.b, p.a);
  }
  const isBlocked = (a: string, b: string) => blocked.get(a)?.has(b) ?? false;
  const someIn = (set: Set<string> | undefined, others: ReadonlySet<string>) => {
    if (!set) return false;
    for (const x of set) if (others.has(x)) return true;
    return false;
  };
  return {
    // A block normally deletes the friendship; this is the belt for a block racing an accept.
    isFriend: (a, b) => (friends.get(a)?.has(b) ?? false) && !isBlocked(a, b),
    isBlocked,
    hasAny: (u) => friends.has(u) || blocked.has(u),
    hasAnyIn: (u, others) => someIn(friends.get(u), others) || someIn(blocked.get(u), others),
  };
}

/**
 * Accepted friendships and blocks (either way) between anyone in `viewers` and anyone in `subjects`, in
 * one statement whatever the sizes (the lists travel as two array parameters): the people list asks
 * about the pairs actually present at a venue, never about whole friend lists.
 */
export async function relationsBetween(prisma: PrismaClient, viewers: string[], subjects: string[]): Promise<Relations> {
  if (viewers.length === 0 || subjects.length === 0) return noRelations;
  const pairs = await prisma.$queryRaw<Pair[]>`
    SELECT 'f' AS k, "requesterId" AS a, "addresseeId" AS b FROM friendships WHERE status = 'ACCEPTED' AND (
      ("requesterId" = ANY(${viewers}::text[]) AND "addresseeId" = ANY(${subjects}::text[])) OR
      ("requesterId" = ANY(${subjects}::text[]) AND "addresseeId" = ANY(${viewers}::text[])))
    UNION ALL
    SELECT 'b' AS k, "blockerId" AS a, "blockedId" AS b FROM blocks WHERE
      ("blockerId" = ANY(${viewers}::text[]) AND "blockedId" = ANY(${subjects}::text[])) OR
      ("blockerId" = ANY(${subjects}::text[]) AND "blockedId" = ANY(${viewers}::text[]))`;
  return relationsOf(pairs);
}

export type PublicProfile = { displayName: string; profileImageUrl: string | null };

export async function profilesOf(prisma: PrismaClient, userIds: string[]): Promise<Map<string, PublicProfile>> {
  if (userIds.length === 0) return new Map();
  const rows = await prisma.user.findMany({
    where: { id: { in: userIds } },
    select: { id: true, displayName: true, profileImageUrl: true },
  });
  return new Map(rows.map((r) => [r.id, { displayName: r.displayName, profileImageUrl: r.profileImageUrl }]));
}

export interface BatchRelations {
  /** Accepted friends of a user of the batch, minus anyone in a block with them either way. */
  friendsOf(userId: string): string[];
  profiles: Map<string, PublicProfile>;
}

/**
 * What a journal flush's listeners need about its users, in one statement for the whole batch: their
 * accepted friendships, their blocks and their public profiles. Friend notifications use the first two,
 * the venue people list the last.
 */
export async function batchRelations(prisma: PrismaClient, userIds: string[]): Promise<BatchRelations> {
  if (userIds.length === 0) return { friendsOf: () => [], profiles: new Map() };
  const rows = await prisma.$queryRaw<{ k: 'f' | 'b' | 'p'; a: string; b: string | null; name: string | null; image: string | null }[]>`
    SELECT 'f' AS k, "requesterId" AS a, "addresseeId" AS b, NULL::text AS name, NULL::text AS image FROM friendships
      WHERE status = 'ACCEPTED' AND ("requesterId" = ANY(${userIds}::text[]) OR "addresseeId" = ANY(${userIds}::text[]))
    UNION ALL
    SELECT 'b', "blockerId", "blockedId", NULL, NULL FROM blocks WHERE "blockerId" = ANY(${userIds}::text[]) OR "blockedId" = ANY(${userIds}::text[])
    UNION ALL
    SELECT 'p', id, NULL, "displayName", "profileImageUrl" FROM users WHERE id = ANY(${userIds}::text[])`;
  const profiles = new Map<string, PublicProfile>();
  const friends = new Map<string, Set<string>>();
  const blocked = new Set<string>();
  for (const r of rows) {
    if (r.k === 'p') profiles.set(r.a, { displayName: r.name ?? '', profileImageUrl: r.image });
    else if (r.k === 'b') blocked.add(`${r.a} ${r.b}`).add(`${r.b} ${r.a}`);
    else {
      link(friends, r.a, r.b!);
      link(friends, r.b!, r.a);
    }
  }
  return {
    friendsOf: (u) => [...(friends.get(u) ?? [])].filter((f) => !blocked.has(`${u} ${f}`)),
    profiles,
  };
}

/** The flush's one relations read, shared by every listener of that flush. */
export function flushRelations(prisma: PrismaClient, events: PresenceEvent[], scope: FlushScope): Promise<BatchRelations> {
  return scope.once('relations', () =>
    batchRelations(
      prisma,
      events.map((e) => e.userId),
    ),
  );
}
