import type { PublicUser } from '../../protocol/http/common';
import type { AppContext } from '../context';
import type { PresenceRecord } from '../presence/presence-store';
import { listFriends } from './friends';

/**
 * Which of `userId`'s friends are checked in at each of `venueIds`, now. Only accepted friends, never
 * anyone blocked either way, never anyone in ghost mode (`visible: false`): nobody learns where a
 * non-friend is. Read live from the presence store, never cached.
 *
 * The store answers per user or per venue, so the cheaper side is asked: each friend's presence when
 * friends are fewer than venues, else each venue's list intersected with the friends.
 */
export async function friendsPresentAt(
  ctx: Pick<AppContext, 'db' | 'presence' | 'now'>,
  userId: string,
  venueIds: string[],
): Promise<Map<string, PublicUser[]>> {
  const out = new Map<string, PublicUser[]>(venueIds.map((id) => [id, []]));
  if (venueIds.length === 0) return out;
  const friends = await listFriends(ctx.db.prisma, userId);
  if (friends.length === 0) return out;
  const byId = new Map(friends.map((f) => [f.id, f]));
  const now = ctx.now();
  let presences: PresenceRecord[];
  if (friends.length <= venueIds.length) {
    presences = (await Promise.all(friends.map((f) => ctx.presence.get(f.id, now)))).filter((p): p is PresenceRecord => p !== null);
  } else {
    presences = (await Promise.all(venueIds.map((v) => ctx.presence.listVenue(v, now)))).flat().filter((p) => byId.has(p.userId));
  }
  for (const p of presences) {
    const friend = byId.get(p.userId);
    const list = out.get(p.venueId);
    if (!friend || !list || !p.visible || p.expiresAt <= now) continue;
    list.push({ id: friend.id, displayName: friend.displayName, profileImageUrl: friend.profileImageUrl });
  }
  return out;
}
