import type { AppContext } from '../context';
import { distanceMeters } from '../geo/distance';
import { boundingBox } from './geo';

type Prisma = AppContext['db']['prisma'];

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
 * distances sort what is left. Only ids and coordinates cross the wire here; details are loaded for
 * the few that win.
 */
export async function findNearestVenues(
  prisma: Prisma,
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
