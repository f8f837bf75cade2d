import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceMeters } from '../../server/geo/distance';
import { findNearestVenues } from '../../server/venues/nearest-venues';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase('nearest');
});
afterAll(() => test?.drop());

const wrapLng = (lng: number) => ((((lng + 180) % 360) + 360) % 360) - 180;
const clampLat = (lat: number) => Math.max(-90, Math.min(90, lat));

/** Centres where naive boxes break: at the antimeridian, near both poles, and anywhere else. */
const centre = fc.oneof(
  fc.record({ lat: fc.double({ min: -80, max: 80, noNaN: true }), lng: fc.double({ min: 179, max: 180, noNaN: true }) }),
  fc.record({ lat: fc.double({ min: -80, max: 80, noNaN: true }), lng: fc.double({ min: -180, max: -179, noNaN: true }) }),
  fc.record({ lat: fc.double({ min: 89, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }),
  fc.record({ lat: fc.double({ min: -90, max: -89, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }),
  fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lng: fc.double({ min: -180, max: 180, noNaN: true }) }),
);

/**
 * Venues placed by bearing and distance from the centre, from 0 to 1.6 × the radius, so many sit near
 * the rim in every direction (where a box that is too narrow, or unwrapped, loses them), plus a few
 * anywhere in a wide band around the centre.
 */
const placements = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('polar' as const),
      bearing: fc.double({ min: 0, max: 360, noNaN: true }),
      fraction: fc.double({ min: 0, max: 1.6, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant('band' as const),
      dLat: fc.double({ min: -0.8, max: 0.8, noNaN: true }),
      lng: fc.double({ min: -180, max: 180, noNaN: true }),
      dLng: fc.double({ min: -2, max: 2, noNaN: true }),
    }),
  ),
  { minLength: 0, maxLength: 40 },
);

const R = 6_371_008.8;
const toRad = (d: number) => (d * Math.PI) / 180;
const toDeg = (r: number) => (r * 180) / Math.PI;
function destination(lat: number, lng: number, bearingDeg: number, meters: number) {
  const d = meters / R;
  const phi1 = toRad(lat);
  const theta = toRad(bearingDeg);
  const phi2 = Math.asin(Math.sin(phi1) * Math.cos(d) + Math.cos(phi1) * Math.sin(d) * Math.cos(theta));
  const lambda2 = toRad(lng) + Math.atan2(Math.sin(theta) * Math.sin(d) * Math.cos(phi1), Math.cos(d) - Math.sin(phi1) * Math.sin(phi2));
  return { latitude: clampLat(toDeg(phi2)), longitude: wrapLng(toDeg(lambda2)) };
}

function bruteForce(
  all: { id: string; latitude: number; longitude: number }[],
  q: { lat: number; lng: number; radiusMeters: number; limit: number },
) {
  return all
    .map((v) => ({ id: v.id, d: distanceMeters(q.lat, q.lng, v.latitude, v.longitude) }))
    .filter((v) => v.d <= q.radiusMeters)
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, q.limit)
    .map((v) => v.id);
}

describe('findNearestVenues', () => {
  it('returns exactly what a brute-force distance sort over every venue returns', { timeout: 120_000 }, async () => {
    const prisma = test.db.prisma;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        centre,
        placements,
        fc.integer({ min: 1, max: 50_000 }),
        fc.integer({ min: 1, max: 25 }),
        async (c, places, radiusMeters, limit) => {
          run += 1;
          await prisma.venue.deleteMany({});
          const nearPole = Math.abs(c.lat) > 88;
          const venues = places.map((p, i) => ({
            id: `v${run}-${String(i).padStart(3, '0')}`,
            slug: `v${run}-${i}`,
            name: `Venue ${i}`,
            ...(p.kind === 'polar'
              ? destination(c.lat, c.lng, p.bearing, p.fraction * radiusMeters)
              : { latitude: clampLat(c.lat + p.dLat), longitude: nearPole ? p.lng : wrapLng(c.lng + p.dLng) }),
          }));
          if (venues.length > 0) await prisma.venue.createMany({ data: venues });
          const q = { lat: c.lat, lng: c.lng, radiusMeters, limit };
          const got = (await findNearestVenues(prisma, q)).map((v) => v.id);
          expect(got).toEqual(bruteForce(venues, q));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('finds a venue 2 km away on the other side of the antimeridian', async () => {
    const prisma = test.db.prisma;
    await prisma.venue.deleteMany({});
    await prisma.venue.createMany({
      data: [
        { id: 'east', slug: 'east', name: 'East', latitude: -16.5, longitude: 179.99 },
        { id: 'west', slug: 'west', name: 'West', latitude: -16.5, longitude: -179.99 },
        { id: 'far', slug: 'far', name: 'Far', latitude: -16.5, longitude: 0 },
      ],
    });
    const fromEast = await findNearestVenues(prisma, { lat: -16.5, lng: 179.995, radiusMeters: 5_000, limit: 10 });
    expect(fromEast.map((v) => v.id).sort()).toEqual(['east', 'west']);
    const fromWest = await findNearestVenues(prisma, { lat: -16.5, lng: -179.999, radiusMeters: 2_000, limit: 10 });
    expect(fromWest.map((v) => v.id)).toEqual(['west', 'east']);
  });

  it('finds a venue across the North Pole, where every longitude is close', async () => {
    const prisma = test.db.prisma;
    await prisma.venue.deleteMany({});
    await prisma.venue.createMany({
      data: [
        { id: 'pole-camp', slug: 'pole-camp', name: 'Camp', latitude: 89.99, longitude: 180 },
        { id: 'other-side', slug: 'other-side', name: 'Other side', latitude: 89.98, longitude: -90 },
        { id: 'south', slug: 'south', name: 'South', latitude: 89.5, longitude: 0 },
      ],
    });
    const got = await findNearestVenues(prisma, { lat: 89.99, lng: 0, radiusMeters: 10_000, limit: 10 });
    expect(got.map((v) => v.id)).toEqual(['pole-camp', 'other-side']);
    expect(got[0]!.distanceMeters).toBeCloseTo(2_223.9, 0);
  });
});
