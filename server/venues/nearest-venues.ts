import type { AppContext } from '../context';
import { Prisma } from '../storage/prisma-types';
import { distanceMeters } from '../geo/distance';
import { boundingBox } from './geo';

type PrismaClient = AppContext['db']['prisma'];

export interface VenuePoint {
  id: string;
  latitude: number;
  longitude: number;
}

export interface RankedVenue extends VenuePoint {
  distanceMeters: number;
}

/** Exact distances from `from`, within `radiusM`, nearest first (ties by id so pages are stable). */
export function rankByDistance(from: { lat: number; lng: number }, points: VenuePoint[], radiusM: number, limit: number): RankedVenue[] {
  return points
    .map((p) => ({ ...p, distanceMeters: distanceMeters(from.lat, from.lng, p.latitude, p.longitude) }))
    .filter((p) => p.distanceMeters <= radiusM)
    .sort((a, b) => a.distanceMeters - b.distanceMeters || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit);
}

/**
 * Nearest venues: the (latitude, longitude) index prunes to the bounding box, then exact haversine
 * distances sort what is left. Only ids and coordinates cross the wire here, as one JSON text built by
 * PostgreSQL (a cold answer's box holds a couple of hundred rows; one string is parsed faster than the
 * driver and the ORM map that many rows). Details are loaded for the few that win.
 */
export async function findNearestVenues(
  prisma: PrismaClient,
  q: { lat: number; lng: number; radiusMeters: number; limit: number },
): Promise<RankedVenue[]> {
  const box = boundingBox(q.lat, q.lng, q.radiusMeters);
  const lng = box.lngRanges.map(([min, max]) => Prisma.sql`(v."longitude" >= ${min} AND v."longitude" <= ${max})`);
  // float8 as JSON is its shortest exact text (extra_float_digits 1), so the coordinates are the stored ones.
  const [row] = await prisma.$queryRaw<{ points: string }[]>(Prisma.sql`
    SELECT COALESCE(json_agg(json_build_array(v."id", v."latitude", v."longitude")), '[]'::json)::text AS "points"
    FROM "venues" v
    WHERE v."latitude" >= ${box.minLat} AND v."latitude" <= ${box.maxLat} AND (${Prisma.join(lng, ' OR ')})`);
  const points = (JSON.parse(row?.points ?? '[]') as [string, number, number][]).map(([id, latitude, longitude]) => ({
    id,
    latitude,
    longitude,
  }));
  return rankByDistance(q, points, q.radiusMeters, q.limit);
}

/** The same through the ORM (a row per venue): the previous code, kept for `VENUES_READS=per-request`. */
export async function findNearestVenuesPerRow(
  prisma: PrismaClient,
  q: { lat: number; lng: number; radiusMeters: number; limit: number },
): Promise<RankedVenue[]> {
  const box = boundingBox(q.lat, q.lng, q.radiusMeters);
  const rows = await prisma.venue.findMany({
    where: {
      latitude: { gte: box.minLat, lte: box.maxLat },
      OR: box.lngRanges.map(([min, max]) => ({ longitude: { gte: min, lte: max } })),
    },
    select: { id: true, latitude: true, longitude: true },
  });
  return rankByDistance(q, rows, q.radiusMeters, q.limit);
}
