import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from './prisma-types';

const SEED_MARKER = 'demo-seed-v1';

type MenuEntry = [name: string, category: string, priceCents: number];

const COCKTAILS: MenuEntry[] = [
  ['Old Fashioned', 'cocktail', 1600],
  ['Negroni', 'cocktail', 1500],
  ['Margarita', 'cocktail', 1400],
  ['Espresso Martini', 'cocktail', 1700],
  ['Paloma', 'cocktail', 1400],
];
const BEERS: MenuEntry[] = [
  ['Brooklyn Lager', 'beer', 800],
  ['Pilsner Draft', 'beer', 700],
  ['Hazy IPA', 'beer', 900],
];
const OTHERS: MenuEntry[] = [
  ['House Red', 'wine', 1200],
  ['Prosecco', 'wine', 1300],
  ['Tequila Shot', 'shot', 900],
  ['Whiskey Neat', 'spirit', 1400],
  ['Virgin Mojito', 'non-alcoholic', 700],
];

/** name, north/east offset from the centre in metres (all within ~2 km), kind, address. */
const VENUES: [string, number, number, string, string][] = [
  ['The Velvet Lounge', 250, -180, 'cocktail lounge', '12 Mercer St'],
  ['Neon Tiger', -420, 310, 'nightclub', '88 Orchard St'],
  ['Copper & Oak', 600, 520, 'whiskey bar', '41 Bleecker St'],
  ['Harbor Light Tavern', -900, -650, 'tavern', '3 South St'],
  ['Blue Room', 1100, -300, 'jazz bar', '207 W Houston St'],
  ['Midnight Social', -150, 980, 'club', '120 Delancey St'],
  ['The Gilded Fox', 1400, 700, 'cocktail bar', '56 E 4th St'],
  ['Rooftop 27', -1300, 200, 'rooftop bar', '27 Water St'],
  ['Echo Hall', 300, -1250, 'live music venue', '9 Leroy St'],
  ['Lucky Penny Pub', -600, -1400, 'pub', '15 Greenwich St'],
  ['Sapphire Club', 1700, -900, 'nightclub', '330 W 14th St'],
  ['Corner Dive', -1650, 1100, 'dive bar', '71 Essex St'],
];

const slugify = (name: string) =>
  name
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

function offset(lat: number, lng: number, northM: number, eastM: number): { latitude: number; longitude: number } {
  const latitude = lat + northM / 111_320;
  const longitude = lng + eastM / (111_320 * Math.cos((lat * Math.PI) / 180));
  return { latitude: Number(latitude.toFixed(6)), longitude: Number(longitude.toFixed(6)) };
}

function menuFor(index: number): MenuEntry[] {
  // 5–8 items per venue, varied so venues do not all look alike.
  const size = 5 + (index % 4);
  const pool = [...COCKTAILS.slice(index % 2), ...BEERS, ...OTHERS.slice(index % 3)];
  return pool.filter((_, i) => (i + index) % 2 === 0 || i < 3).slice(0, size);
}

/**
 * Seeds the demo city once: venues around the centre, menus, tonight's specials and one staff
 * account per venue (`staff+<slug>@treatme.dev`). The marker row is inserted first inside the
 * transaction: a second node seeding at the same time blocks on its primary key until the first
 * commits, then gets a unique violation and reports created:false.
 */
export async function seedDemoData(
  prisma: PrismaClient,
  center: { centerLat: number; centerLng: number },
): Promise<{ created: boolean; venues: number }> {
  if (await prisma.systemMarker.findUnique({ where: { key: SEED_MARKER } })) {
    return { created: false, venues: await prisma.venue.count() };
  }
  try {
    const venues = await prisma.$transaction(
      async (tx) => {
        await tx.systemMarker.create({ data: { key: SEED_MARKER } });
        const rows = VENUES.map(([name, north, east, kind, address], i) => ({
          id: randomUUID(),
          slug: slugify(name),
          name,
          description: `A ${kind} in the heart of the city.`,
          address,
          coverImageUrl: `https://picsum.photos/seed/${slugify(name)}/800/400`,
          ...offset(center.centerLat, center.centerLng, north, east),
          index: i,
        }));
        await tx.venue.createMany({ data: rows.map(({ index: _i, ...v }) => v), skipDuplicates: true });
        const staff = rows.map((v) => ({ id: randomUUID(), venueId: v.id, slug: v.slug, name: v.name }));
        await tx.user.createMany({
          data: staff.map((s) => ({
            id: s.id,
            email: `staff+${s.slug}@treatme.dev`,
            emailVerified: true,
            displayName: `${s.name} Bar`,
          })),
          skipDuplicates: true,
        });
        await tx.venueStaff.createMany({
          data: staff.map((s) => ({ venueId: s.venueId, userId: s.id, role: 'BARTENDER' as const })),
          skipDuplicates: true,
        });
        await tx.menuItem.createMany({
          data: rows.flatMap((v) =>
            menuFor(v.index).map(([name, category, priceCents]) => ({ venueId: v.id, name, category, priceCents })),
          ),
          skipDuplicates: true,
        });
        await tx.special.createMany({
          data: rows.flatMap((v) => [
            { venueId: v.id, title: 'Happy Hour', description: 'Half-price draft beer, 5–7 pm', priceCents: 400 },
            ...(v.index % 2 === 0
              ? [{ venueId: v.id, title: `${v.name} Signature`, description: "Tonight's house cocktail", priceCents: 1100 }]
              : []),
          ]),
        });
        return rows.length;
      },
      { timeout: 60_000, maxWait: 60_000 },
    );
    return { created: true, venues };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
      return { created: false, venues: await prisma.venue.count() };
    }
    throw e;
  }
}
