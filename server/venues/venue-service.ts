import { ErrorCode } from '../../protocol/errors';
import type { NearbyVenuesResponse, VenueView } from '../../protocol/http/venues';
import { cacheLookups, queryCache } from '../cache/query-cache';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { friendsPresentAt } from '../social/friends-present';
import { findNearestVenuesPerRow as findNearestVenues, rankByDistance } from './nearest-venues';
import { isSpecialTonight } from './tonight';
import { CANDIDATE_CAP, CELL_HALF_DIAGONAL_M, roundToCell } from './venue-answers';
import { loadVenueDetailsPerRelation as loadDetails, type VenueDetails } from './venue-details';

/*
 * The previous code, served with VENUES_READS=per-request as the benchmark's baseline: every answer
 * reads the counts from the presence store, the caller's friends from PostgreSQL and their presence
 * from the store, and serialises every venue again; a cache miss loads details one query per relation.
 * Production answers come from VenueAnswers (venue-answers.ts).
 */

type Ctx = AppContext;

/** Live data (count, friends) joined onto cached details; nothing here is ever cached. */
async function enrich(ctx: Ctx, venues: (VenueDetails & { distanceMeters?: number })[], userId: string | null): Promise<VenueView[]> {
  const ids = venues.map((v) => v.id);
  const [counts, friends] = await Promise.all([
    ctx.presence.getCounts(ids),
    userId ? friendsPresentAt(ctx, userId, ids) : Promise.resolve(new Map<string, never[]>()),
  ]);
  const now = ctx.now();
  return venues.map((v) => {
    const count = counts.get(v.id) ?? { count: 0, version: 0 };
    return {
      id: v.id,
      slug: v.slug,
      name: v.name,
      description: v.description,
      latitude: v.latitude,
      longitude: v.longitude,
      address: v.address,
      coverImageUrl: v.coverImageUrl,
      ...(v.distanceMeters !== undefined ? { distanceMeters: Math.round(v.distanceMeters * 10) / 10 } : {}),
      liveCount: count.count,
      countVersion: count.version,
      friendsPresent: friends.get(v.id) ?? [],
      specialsTonight: v.specials
        .filter((s) => isSpecialTonight(s, v.longitude, now))
        .map((s) => ({ id: s.id, title: s.title, description: s.description, priceCents: s.priceCents })),
      menu: v.menu,
    };
  });
}

export async function nearbyVenuesPerRequest(
  ctx: Ctx,
  cacheSeconds: number,
  q: { lat: number; lng: number; radiusMeters: number; limit: number },
  userId: string | null,
): Promise<NearbyVenuesResponse> {
  const cellLat = roundToCell(q.lat);
  const cellLng = roundToCell(q.lng);
  const key = `venues:near:v1:${cellLat.toFixed(3)}:${cellLng.toFixed(3)}:${q.radiusMeters}`;
  const { value: candidates, hit } = await queryCache(ctx).getOrLoad(key, cacheSeconds, async () => {
    const near = await findNearestVenues(ctx.db.prisma, {
      lat: cellLat,
      lng: cellLng,
      radiusMeters: q.radiusMeters + CELL_HALF_DIAGONAL_M,
      limit: CANDIDATE_CAP,
    });
    const details = new Map(
      (
        await loadDetails(
          ctx.db.prisma,
          near.map((n) => n.id),
        )
      ).map((d) => [d.id, d]),
    );
    return near.map((n) => details.get(n.id)).filter((d): d is VenueDetails => d !== undefined);
  });
  cacheLookups(ctx).inc({ cache: 'venues-near', result: hit ? 'hit' : 'miss' });
  const ranked = rankByDistance(q, candidates, q.radiusMeters, q.limit);
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const venues = ranked.map((r) => ({ ...byId.get(r.id)!, distanceMeters: r.distanceMeters }));
  return { venues: await enrich(ctx, venues, userId), radiusMeters: q.radiusMeters };
}

export async function venueByIdPerRequest(ctx: Ctx, cacheSeconds: number, venueId: string, userId: string | null): Promise<VenueView> {
  const { value } = await queryCache(ctx).getOrLoad(`venues:one:v1:${venueId}`, cacheSeconds, async () => {
    const [d] = await loadDetails(ctx.db.prisma, [venueId]);
    // null is cached too, so a scan of made-up ids does not reach the database each time.
    return d ?? null;
  });
  if (!value) throw new AppError(ErrorCode.NOT_FOUND, 'No such venue');
  const [view] = await enrich(ctx, [value], userId);
  return view!;
}
