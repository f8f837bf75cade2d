import { z } from 'zod';
import { Latitude, Longitude } from '../schemas';
import { PublicUser, numberParam } from './common';

export const MIN_RADIUS_METERS = 1;
export const MAX_RADIUS_METERS = 50_000;
export const DEFAULT_RADIUS_METERS = 2_000;
export const MAX_VENUES_PER_PAGE = 100;

const RADIUS_PATTERN = /^(\d+(?:\.\d+)?)\s*(m|km)?$/i;

/** `500`, `500m`, `1.5km` → metres, or null when it is not a distance. */
export function radiusToMeters(text: string): number | null {
  const m = RADIUS_PATTERN.exec(text.trim());
  if (!m?.[1]) return null;
  const value = Number(m[1]);
  return m[2]?.toLowerCase() === 'km' ? value * 1000 : value;
}

export const Radius = z
  .string()
  .max(20)
  .transform((text, ctx) => {
    const meters = radiusToMeters(text);
    if (meters === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a distance like 500, 500m or 1km' });
      return z.NEVER;
    }
    return meters;
  })
  .pipe(
    z
      .number()
      .min(MIN_RADIUS_METERS)
      .max(MAX_RADIUS_METERS, `at most ${MAX_RADIUS_METERS / 1000}km`),
  );

export const NearbyVenuesQuery = z.strictObject({
  lat: numberParam(Latitude),
  lng: numberParam(Longitude),
  radius: Radius.optional(),
  limit: numberParam(z.number().int().min(1).max(MAX_VENUES_PER_PAGE)).optional(),
});
export type NearbyVenuesQuery = z.infer<typeof NearbyVenuesQuery>;

export const SpecialView = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  priceCents: z.number().int().nullable(),
});
export const MenuItemView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  priceCents: z.number().int(),
  category: z.string(),
});

export const VenueView = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  latitude: z.number(),
  longitude: z.number(),
  address: z.string().nullable(),
  coverImageUrl: z.string().nullable(),
  /** Great-circle distance from the queried position; absent on `GET /api/venues/:id` without a position. */
  distanceMeters: z.number().optional(),
  /** Live: never served from a cache. */
  liveCount: z.number().int(),
  countVersion: z.number().int(),
  /** The caller's friends checked in here and visible; empty for anonymous callers. */
  friendsPresent: z.array(PublicUser),
  specialsTonight: z.array(SpecialView),
  menu: z.array(MenuItemView),
});
export type VenueView = z.infer<typeof VenueView>;

export const NearbyVenuesResponse = z.object({ venues: z.array(VenueView), radiusMeters: z.number() });
export type NearbyVenuesResponse = z.infer<typeof NearbyVenuesResponse>;
