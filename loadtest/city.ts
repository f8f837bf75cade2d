import type { NearbyVenuesResponse } from '../protocol/http/venues';
import type { TraceVenue } from '../protocol/trace';
import type { PrismaClient } from '../server/storage/prisma-types';
import { Rng } from './random';

const slugOf = (i: number) => `lt-venue-${i}`;

/**
 * Tops the city up to `want` venues: the demo seed has a dozen, a Friday-night test wants hundreds.
 * Each generated venue gets a bartender (`staff+<slug>@treatme.dev`, as the demo venues do) so scans
 * can be played. Positions are seeded, so two runs build the same city.
 */
export async function seedVenues(prisma: PrismaClient, want: number, center: { lat: number; lng: number }): Promise<number> {
  const have = await prisma.venue.count();
  if (have >= want) return 0;
  const rng = new Rng(4242);
  const rows = Array.from({ length: want - have }, (_, i) => {
    const r = 3_500 * Math.sqrt(rng.next());
    const a = rng.between(0, 2 * Math.PI);
    return {
      slug: slugOf(i),
      name: `Loadtest Venue ${i}`,
      description: 'A generated venue for load tests.',
      latitude: Number((center.lat + (r * Math.cos(a)) / 111_320).toFixed(6)),
      longitude: Number((center.lng + (r * Math.sin(a)) / (111_320 * Math.cos((center.lat * Math.PI) / 180))).toFixed(6)),
    };
  });
  await prisma.venue.createMany({ data: rows, skipDuplicates: true });
  const venues = await prisma.venue.findMany({
    where: { slug: { in: rows.map((r) => r.slug) } },
    select: { id: true, slug: true, name: true },
  });
  await prisma.user.createMany({
    data: venues.map((v) => ({ email: `staff+${v.slug}@treatme.dev`, emailVerified: true, displayName: `${v.name} Bar` })),
    skipDuplicates: true,
  });
  const staff = await prisma.user.findMany({
    where: { email: { in: venues.map((v) => `staff+${v.slug}@treatme.dev`) } },
    select: { id: true, email: true },
  });
  const byEmail = new Map(staff.map((s) => [s.email, s.id]));
  await prisma.venueStaff.createMany({
    data: venues.map((v) => ({ venueId: v.id, userId: byEmail.get(`staff+${v.slug}@treatme.dev`)!, role: 'BARTENDER' as const })),
    skipDuplicates: true,
  });
  return rows.length;
}

/**
 * The city as the server lists it. The venue list API pages by distance (at most 100 per call), so the
 * city is sampled from a grid of points around the centre and merged; sorted by slug for a stable order.
 */
export async function fetchVenues(url: string, center: { lat: number; lng: number }, want: number): Promise<TraceVenue[]> {
  const found = new Map<string, TraceVenue>();
  const stepLat = 2_000 / 111_320;
  const stepLng = 2_000 / (111_320 * Math.cos((center.lat * Math.PI) / 180));
  for (let ring = 0; ring <= 2 && found.size < want; ring++) {
    for (let dy = -ring; dy <= ring; dy++) {
      for (let dx = -ring; dx <= ring; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        const lat = center.lat + dy * stepLat;
        const lng = center.lng + dx * stepLng;
        const res = await fetch(`${url}/api/venues?lat=${lat}&lng=${lng}&radius=10km&limit=100`);
        if (!res.ok) throw new Error(`GET /api/venues: HTTP ${res.status} ${await res.text()}`);
        const body = (await res.json()) as NearbyVenuesResponse;
        for (const v of body.venues) {
          found.set(v.id, { id: v.id, slug: v.slug, lat: v.latitude, lng: v.longitude, staffEmail: `staff+${v.slug}@treatme.dev` });
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.slug.localeCompare(b.slug)).slice(0, want);
}

/** The same city read from the system of record, for nodes this tool prepares itself: nearest `want` to the centre. */
export async function venuesFromDatabase(prisma: PrismaClient, center: { lat: number; lng: number }, want: number): Promise<TraceVenue[]> {
  const rows = await prisma.venue.findMany({ select: { id: true, slug: true, latitude: true, longitude: true } });
  const d = (r: { latitude: number; longitude: number }) =>
    (r.latitude - center.lat) ** 2 + ((r.longitude - center.lng) * Math.cos((center.lat * Math.PI) / 180)) ** 2;
  return rows
    .sort((x, y) => d(x) - d(y))
    .slice(0, want)
    .map((v) => ({ id: v.id, slug: v.slug, lat: v.latitude, lng: v.longitude, staffEmail: `staff+${v.slug}@treatme.dev` }))
    .sort((a, b) => a.slug.localeCompare(b.slug));
}
