import type { VenueCount } from '../../protocol/events';

/**
 * The latest count per venue. Counts arrive from three places (the REST venue list, snapshots after a
 * watch, live `venue:count`) in any order; the version decides, so an older message never undoes a newer one.
 */
export class CountBook {
  private readonly latest = new Map<string, VenueCount>();

  /** Returns true when this count is newer than what we had (so the marker must change). */
  apply(c: VenueCount): boolean {
    const known = this.latest.get(c.venueId);
    if (known && known.version >= c.version) return false;
    this.latest.set(c.venueId, c);
    return true;
  }

  get(venueId: string): VenueCount | undefined {
    return this.latest.get(venueId);
  }
}

export type BusyLevel = 'empty' | 'quiet' | 'lively' | 'busy' | 'packed';

export function busyLevel(count: number): BusyLevel {
  if (count <= 0) return 'empty';
  if (count < 5) return 'quiet';
  if (count < 20) return 'lively';
  if (count < 50) return 'busy';
  return 'packed';
}

/** Marker diameter in px: grows with the square root so a packed club does not cover the block. */
export function markerSize(count: number): number {
  return Math.round(30 + Math.min(42, Math.sqrt(Math.max(0, count)) * 6));
}
