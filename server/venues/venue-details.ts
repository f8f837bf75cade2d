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
 * JSON text built by PostgreSQL (json_agg's text, inside the stored `detailsJson`), spliced into
 * answers as it is, so nothing parses it and serialises it again on the way.
 */
export interface VenueRow extends Omit<VenueDetails, 'menu'> {
  menuJson: string;
}

/**
 * The winners' rows with their available menu (by category, then name) and every special (by title),
 * as one text: the venues' stored `detailsJson` (each a `VenueRow`, kept by PostgreSQL triggers on
 * venues, menu_items and specials; see the venue_details_json migration) joined into a JSON array.
 * The ids are joined through the primary key, so PostgreSQL does a lookup per winner and builds
 * nothing; the menu inside is JSON text spliced into answers as it is. Order of the answer is not the
 * order of `ids`; callers look venues up by id.
 */
export async function loadVenueDetails(prisma: PrismaClient, ids: string[]): Promise<VenueRow[]> {
  if (ids.length === 0) return [];
  const [row] = await prisma.$queryRaw<{ venues: string | null }[]>(Prisma.sql`
    SELECT '[' || string_agg(v."detailsJson", ',') || ']' AS "venues"
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
