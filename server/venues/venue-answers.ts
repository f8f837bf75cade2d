import { ErrorCode } from '../../protocol/errors';
import type { PublicUser } from '../../protocol/http/common';
import { cacheLookups, queryCache } from '../cache/query-cache';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import { setNewest } from '../lib/bounded-map';
import { friendCache } from '../social/friend-cache';
import type { PresenceDirectory } from '../social/presence-directory';
import type { CountTable } from './count-table';
import { findNearestVenues, rankByDistance, type RankedVenue, type VenuePoint } from './nearest-venues';
import { loadVenueDetails, type VenueRow } from './venue-details';
import { fragmentOf, specialsTonightJson, type VenueFragment } from './venue-fragments';

/**
 * Positions are cached per cell of 0.001° (≤ 111 m); a cell's candidates are fetched for the cell
 * centre with the radius widened by the cell's half-diagonal, so they include every venue in range of
 * any point of the cell, and the exact distances are then taken from the caller's own position.
 */
export const CELL_DEGREES = 0.001;
export const CELL_HALF_DIAGONAL_M = 80;
/** More candidates than any page, so re-ranking from the caller's position still fills a page. */
export const CANDIDATE_CAP = 200;

export const roundToCell = (v: number) => Math.round(v / CELL_DEGREES) * CELL_DEGREES;

/** What the shared (Redis) cache holds per cell and per venue; `loadedAt` lets every node expire its copy with it. */
interface CachedCell {
  loadedAt: number;
  venues: VenueRow[];
}
interface CachedVenue {
  loadedAt: number;
  venue: VenueRow | null;
}

/**
 * The candidates (ranked from the cell centre) that can be among the `limit` nearest for some point of
 * the cell. A point is at most h = CELL_HALF_DIAGONAL_M from the centre, so its `limit`-th nearest is
 * at most d + h away, d being the centre's `limit`-th nearest; a venue farther than d + 2h from the
 * centre is farther than that from every point of the cell. Only these need details loaded: about a
 * third of the candidates in a dense centre.
 */
export function couldWin<T extends { distanceMeters: number }>(ranked: T[], limit: number): T[] {
  if (ranked.length <= limit) return ranked;
  const cutoff = ranked[limit - 1]!.distanceMeters + 2 * CELL_HALF_DIAGONAL_M;
  return ranked.filter((r) => r.distanceMeters <= cutoff);
}

const MAX_CELLS = 5_000;
const MAX_RANKINGS = 10_000;
const MAX_FRAGMENTS = 50_000;
/** Last nearby answers kept for a repeat (caller × spot), as text; about 50 KB each. */
const MAX_ANSWERS = 256;

export interface VenueAnswersDeps {
  ctx: AppContext;
  counts: CountTable;
  directory: PresenceDirectory;
  /** VENUES_CACHE_SECONDS: how long venue rows are kept, here and in the shared cache. */
  ttlSeconds: number;
}

/**
 * GET /api/venues and /api/venues/:id, answered as JSON text built from node memory: venue details
 * serialised once per cache fill (`VenueFragment`), counts from the count table, the caller's friends
 * from the friend cache and where they are from the presence directory. A warm answer reads neither
 * PostgreSQL nor the presence store. The node's copies expire when the shared Redis entry they came
 * from does, so every node sees a new venue or menu change at the same time.
 */
export class VenueAnswers {
  private readonly cells = new Map<string, { candidates: VenuePoint[]; expiresAt: number }>();
  private readonly fragments = new Map<string, VenueFragment>();
  private readonly rankings = new Map<string, { points: VenuePoint[]; ranked: RankedVenue[] }>();
  /** Venues asked for by id that do not exist, so a scan of made-up ids stays off the database. */
  private readonly missing = new Map<string, number>();
  private readonly answers = new Map<string, { parts: AnswerParts; text: string }>();

  constructor(private readonly d: VenueAnswersDeps) {}

  private get ttlSeconds(): number {
    return this.d.ttlSeconds;
  }

  private keep(details: VenueRow, expiresAt: number): VenueFragment {
    const known = this.fragments.get(details.id);
    if (known && known.expiresAt >= expiresAt) return known;
    const f = fragmentOf(details, expiresAt);
    if (this.ttlSeconds > 0) setNewest(this.fragments, details.id, f, MAX_FRAGMENTS);
    return f;
  }

  private async candidates(q: {
    lat: number;
    lng: number;
    radiusMeters: number;
    limit: number;
  }): Promise<{ points: VenuePoint[]; fragments: Map<string, VenueFragment> }> {
    const { ctx } = this.d;
    const now = ctx.now();
    const key = `venues:near:v3:${roundToCell(q.lat).toFixed(3)}:${roundToCell(q.lng).toFixed(3)}:${q.radiusMeters}:${q.limit}`;
    const cell = this.cells.get(key);
    if (cell && cell.expiresAt > now) {
      const fragments = new Map<string, VenueFragment>();
      let complete = true;
      for (const p of cell.candidates) {
        const f = this.fragments.get(p.id);
        if (!f || f.expiresAt <= now) {
          complete = false;
          break;
        }
        fragments.set(p.id, f);
      }
      if (complete) {
        cacheLookups(ctx).inc({ cache: 'venues-near-memory', result: 'hit' });
        return { points: cell.candidates, fragments };
      }
    }
    const { value, hit } = await queryCache(ctx).getOrLoad<CachedCell>(key, this.ttlSeconds, async () => {
      const near = await findNearestVenues(ctx.db.prisma, {
        lat: roundToCell(q.lat),
        lng: roundToCell(q.lng),
        radiusMeters: q.radiusMeters + CELL_HALF_DIAGONAL_M,
        limit: CANDIDATE_CAP,
      });
      const winners = couldWin(near, q.limit);
      const details = new Map(
        (
          await loadVenueDetails(
            ctx.db.prisma,
            winners.map((n) => n.id),
          )
        ).map((v) => [v.id, v]),
      );
      return { loadedAt: ctx.now(), venues: winners.map((n) => details.get(n.id)).filter((v): v is VenueRow => v !== undefined) };
    });
    cacheLookups(ctx).inc({ cache: 'venues-near', result: hit ? 'hit' : 'miss' });
    const expiresAt = value.loadedAt + this.ttlSeconds * 1000;
    const fragments = new Map(value.venues.map((v) => [v.id, this.keep(v, expiresAt)]));
    const points = value.venues.map((v) => ({ id: v.id, latitude: v.latitude, longitude: v.longitude }));
    if (this.ttlSeconds > 0) setNewest(this.cells, key, { candidates: points, expiresAt }, MAX_CELLS);
    return { points, fragments };
  }

  private async one(venueId: string): Promise<VenueFragment | null> {
    const { ctx } = this.d;
    const now = ctx.now();
    const known = this.fragments.get(venueId);
    if (known && known.expiresAt > now) return known;
    if ((this.missing.get(venueId) ?? 0) > now) return null;
    const { value } = await queryCache(ctx).getOrLoad<CachedVenue>(`venues:one:v3:${venueId}`, this.ttlSeconds, async () => {
      const [v] = await loadVenueDetails(ctx.db.prisma, [venueId]);
      // null is cached too, so a scan of made-up ids does not reach the database each time.
      return { loadedAt: ctx.now(), venue: v ?? null };
    });
    const expiresAt = value.loadedAt + this.ttlSeconds * 1000;
    if (!value.venue) {
      if (this.ttlSeconds > 0) setNewest(this.missing, venueId, expiresAt, MAX_FRAGMENTS);
      return null;
    }
    return this.keep(value.venue, expiresAt);
  }

  /** The caller's friends (the friend cache's array) and where each is checked in (the presence directory). */
  private async friendsWhere(userId: string | null): Promise<{ friends: PublicUser[]; where: (string | null | undefined)[] }> {
    if (!userId) return { friends: [], where: [] };
    const friends = await friendCache(this.d.ctx).friendsOf(userId);
    if (friends.length === 0) return { friends, where: [] };
    const where = await this.d.directory.venuesOf(friends.map((f) => f.id));
    return { friends, where: friends.map((f) => where.get(f.id)) };
  }

  /** Which of the caller's friends are visibly checked in at each of `venueIds`. */
  private static friendsAt(
    venueIds: string[],
    f: { friends: PublicUser[]; where: (string | null | undefined)[] },
  ): Map<string, PublicUser[]> {
    const out = new Map<string, PublicUser[]>();
    if (f.friends.length === 0) return out;
    const wanted = new Set(venueIds);
    f.friends.forEach((friend, i) => {
      const venueId = f.where[i];
      if (!venueId || !wanted.has(venueId)) return;
      let list = out.get(venueId);
      if (!list) out.set(venueId, (list = []));
      list.push(friend);
    });
    return out;
  }

  private async live(userId: string | null, ids: string[]) {
    const [counts, friends] = await Promise.all([this.d.counts.read(ids, this.d.ctx.presence), this.friendsWhere(userId)]);
    return { counts, friends };
  }

  private venueJson(
    f: VenueFragment,
    count: { count: number; version: number },
    friends: Map<string, PublicUser[]>,
    tonight: string,
    distanceMeters?: number,
  ): string {
    return (
      f.head +
      (distanceMeters !== undefined ? `,"distanceMeters":${JSON.stringify(Math.round(distanceMeters * 10) / 10)}` : '') +
      `,"liveCount":${count.count},"countVersion":${count.version},"friendsPresent":${JSON.stringify(friends.get(f.details.id) ?? [])}` +
      `,"specialsTonight":${tonight}` +
      f.tail
    );
  }

  /** The `NearbyVenuesResponse` as JSON text. */
  async nearby(q: { lat: number; lng: number; radiusMeters: number; limit: number }, userId: string | null): Promise<string> {
    const { points, fragments } = await this.candidates(q);
    const ranked = this.ranked(q, points);
    const ids = ranked.map((r) => r.id);
    const { counts, friends } = await this.live(userId, ids);
    const now = this.d.ctx.now();
    const parts: AnswerParts = {
      ranked,
      fragments: ranked.map((r) => fragments.get(r.id)!),
      counts: ranked.map((r) => counts.get(r.id) ?? NO_COUNT),
      tonight: [],
      friends: friends.friends,
      where: friends.where,
    };
    parts.tonight = parts.fragments.map((f) => specialsTonightJson(f, now));
    // Between two changes the same caller asking from the same spot gets the same text: when every
    // input is the same (the same objects, the same count versions), the last text is answered as it
    // is, not built again (50 venues, about 50 KB).
    const key = `${userId ?? ''}|${q.lat}:${q.lng}:${q.radiusMeters}:${q.limit}`;
    const last = this.answers.get(key);
    if (last && sameParts(last.parts, parts)) return last.text;
    const friendsAt = VenueAnswers.friendsAt(ids, friends);
    const venues = ranked.map((r, i) =>
      this.venueJson(parts.fragments[i]!, parts.counts[i]!, friendsAt, parts.tonight[i]!, r.distanceMeters),
    );
    const text = `{"venues":[${venues.join(',')}],"radiusMeters":${JSON.stringify(q.radiusMeters)}}`;
    if (this.ttlSeconds > 0) setNewest(this.answers, key, { parts, text }, MAX_ANSWERS);
    return text;
  }

  /**
   * The ranking is a pure function of the cell's candidate list (the same array until the cell is
   * refilled) and the exact question, so a caller asking again from the same spot reuses it.
   */
  private ranked(q: { lat: number; lng: number; radiusMeters: number; limit: number }, points: VenuePoint[]): RankedVenue[] {
    const key = `${q.lat}:${q.lng}:${q.radiusMeters}:${q.limit}`;
    const known = this.rankings.get(key);
    if (known && known.points === points) return known.ranked;
    const ranked = rankByDistance(q, points, q.radiusMeters, q.limit);
    if (this.ttlSeconds > 0) setNewest(this.rankings, key, { points, ranked }, MAX_RANKINGS);
    return ranked;
  }

  /** `{ venue: VenueView }` as JSON text. */
  async byId(venueId: string, userId: string | null): Promise<string> {
    const f = await this.one(venueId);
    if (!f) throw new AppError(ErrorCode.NOT_FOUND, 'No such venue');
    const { counts, friends } = await this.live(userId, [venueId]);
    const now = this.d.ctx.now();
    return `{"venue":${this.venueJson(f, counts.get(venueId) ?? NO_COUNT, VenueAnswers.friendsAt([venueId], friends), specialsTonightJson(f, now))}}`;
  }
}

const NO_COUNT = { count: 0, version: 0 };

/** Everything a nearby answer's text is made of, kept to tell whether the next one would be the same. */
interface AnswerParts {
  ranked: RankedVenue[];
  fragments: VenueFragment[];
  counts: { count: number; version: number }[];
  tonight: string[];
  friends: PublicUser[];
  where: (string | null | undefined)[];
}

function sameParts(a: AnswerParts, b: AnswerParts): boolean {
  if (a.ranked !== b.ranked || a.friends !== b.friends || a.where.length !== b.where.length) return false;
  for (let i = 0; i < a.fragments.length; i++) {
    if (a.fragments[i] !== b.fragments[i] || a.tonight[i] !== b.tonight[i]) return false;
    const x = a.counts[i]!;
    const y = b.counts[i]!;
    if (x.version !== y.version || x.count !== y.count) return false;
  }
  for (let i = 0; i < a.where.length; i++) if (a.where[i] !== b.where[i]) return false;
  return true;
}
