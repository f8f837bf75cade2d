import { isSpecialTonight } from './tonight';
import type { VenueRow } from './venue-details';

const DAY_MS = 86_400_000;
const NIGHT_STARTS_AT_MS = 6 * 3_600_000;

/**
 * One venue's slow-changing part, serialised once per cache fill: `head` opens the venue object with
 * its fixed fields, `tail` closes it with the menu. An answer is these strings with the live fields
 * (distance, count, friends) and tonight's specials spliced in between.
 */
export interface VenueFragment {
  details: VenueRow;
  head: string;
  tail: string;
  /** Node-memory expiry, the same moment the shared cache entry it came from expires. */
  expiresAt: number;
  tonight?: { json: string; from: number; until: number };
}

export function fragmentOf(d: VenueRow, expiresAt: number): VenueFragment {
  const head = JSON.stringify({
    id: d.id,
    slug: d.slug,
    name: d.name,
    description: d.description,
    latitude: d.latitude,
    longitude: d.longitude,
    address: d.address,
    coverImageUrl: d.coverImageUrl,
  }).slice(0, -1);
  return { details: d, head, tail: `,"menu":${d.menuJson}}`, expiresAt };
}

/** The next moment the list of tonight's specials can change: a night's 06:00 cut-over or a special's start or end. */
function nextChange(f: VenueFragment, now: number): number {
  const offset = (f.details.longitude / 15) * 3_600_000 - NIGHT_STARTS_AT_MS;
  const localDayStart = Math.floor((now + offset) / DAY_MS) * DAY_MS;
  let until = localDayStart + DAY_MS - offset;
  for (const s of f.details.specials) {
    for (const at of [s.validFrom, s.validUntil]) {
      if (at === null) continue;
      const t = new Date(at).getTime();
      if (t > now && t < until) until = t;
    }
  }
  return until;
}

/** Tonight's specials as JSON, rebuilt only when the night turns or a special starts or ends. */
export function specialsTonightJson(f: VenueFragment, now: number): string {
  if (f.tonight && now >= f.tonight.from && now < f.tonight.until) return f.tonight.json;
  const json = JSON.stringify(
    f.details.specials
      .filter((s) => isSpecialTonight(s, f.details.longitude, now))
      .map((s) => ({ id: s.id, title: s.title, description: s.description, priceCents: s.priceCents })),
  );
  f.tonight = { json, from: now, until: nextChange(f, now) };
  return json;
}
