import { Prisma } from '../storage/prisma-types';
import type { AppContext } from '../context';
import type { VenuePoint } from './nearest-venues';

type PrismaClient = AppContext['db']['prisma'];

export interface MenuItemDetails {
  id: string;
  name: string;
  description: string | null;
  priceCents: number;
  category: string;
}

export interface SpecialDetails {
  id: string;
  title: string;
  description: string | null;
  priceCents: number | null;
  daysOfWeek: number[];
  validFrom: string | null;
  validUntil: string | null;
}

/** The slow-changing part of a venue: what the caches hold (JSON, so dates are strings). */
export interface VenueDetails extends VenuePoint {
  slug: string;
  name: string;
  description: string | null;
  address: string | null;
  coverImageUrl: string | null;
  menu: MenuItemDetails[];
  specials: SpecialDetails[];
}

/**
 * What node memory and the shared cache hold for the answers built from memory: the menu arrives as
 * JSON text built by PostgreSQL (jsonb's text form), spliced into answers as it is, so nothing parses
 * it and serialises it again on the way.
 */
export interface VenueRow extends Omit<VenueDetails, 'menu'> {
  menuJson: string;
}

/**
 * The winners' rows with their available menu (by category, then name) and every special (by title),
 * in one query that answers one text: the venues as a JSON array built by PostgreSQL, each carrying its
 * menu (as JSON text, spliced into answers as it is) and specials aggregated by correlated subqueries
 * over the (venueId, …) indexes. One string to parse instead of a row per venue through the driver and
 * the ORM; the ids are joined through the primary key, not matched against every venue. Order of the
 * answer is not the order of `ids`; callers look venues up by id.
 */
export async function loadVenueDetails(prisma: PrismaClient, ids: string[]): Promise<VenueRow[]> {
  if (ids.length === 0) return [];
  const [row] = await prisma.$queryRaw<{ venues: string }[]>(Prisma.sql`
    SELECT COALESCE(json_agg(json_build_object(
      'id', v."id", 'slug', v."slug", 'name', v."name", 'description', v."description",
      'latitude', v."latitude", 'longitude', v."longitude", 'address', v."address", 'coverImageUrl', v."coverImageUrl",
      'menuJson', COALESCE((
        SELECT json_agg(json_build_object('id', m."id", 'name', m."name", 'description', m."description",
                                          'priceCents', m."priceCents", 'category', m."category")
                        ORDER BY m."category", m."name")
        FROM "menu_items" m WHERE m."venueId" = v."id" AND m."available"
      ), '[]'::json)::text,
      'specials', COALESCE((
        SELECT json_agg(json_build_object('id', s."id", 'title', s."title", 'description', s."description",
                                          'priceCents', s."priceCents", 'daysOfWeek', COALESCE(s."daysOfWeek", ARRAY[]::int[]),
                                          'validFrom', to_char(s."validFrom", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                          'validUntil', to_char(s."validUntil", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                        ORDER BY s."title")
        FROM "specials" s WHERE s."venueId" = v."id"
      ), '[]'::json)
    )), '[]'::json)::text AS "venues"
    FROM unnest(${ids}::text[]) AS w("id") JOIN "venues" v ON v."id" = w."id"`);
  return JSON.parse(row?.venues ?? '[]') as VenueRow[];
}

/** The same rows through the ORM, one query per relation: the previous code, kept for `VENUES_READS=per-request`. */
export async function loadVenueDetailsPerRelation(prisma: PrismaClient, ids: string[]): Promise<VenueDetails[]> {
  if (ids.length === 0) return [];
  const rows = await prisma.venue.findMany({
    where: { id: { in: ids } },
    include: {
      menuItems: { where: { available: true }, orderBy: [{ category: 'asc' }, { name: 'asc' }] },
      specials: { orderBy: { title: 'asc' } },
    },
  });
  return rows.map((v) => ({
    id: v.id,
    slug: v.slug,
    name: v.name,
    description: v.description,
    latitude: v.latitude,
    longitude: v.longitude,
    address: v.address,
    coverImageUrl: v.coverImageUrl,
    menu: v.menuItems.map((m) => ({ id: m.id, name: m.name, description: m.description, priceCents: m.priceCents, category: m.category })),
    specials: v.specials.map((s) => ({
      id: s.id,
      title: s.title,
      description: s.description,
      priceCents: s.priceCents,
      daysOfWeek: s.daysOfWeek,
      validFrom: s.validFrom?.toISOString() ?? null,
      validUntil: s.validUntil?.toISOString() ?? null,
    })),
  }));
}
