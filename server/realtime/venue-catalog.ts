import type { BBox } from '../../protocol/schemas';
import { inBBox } from './map-cells';

export interface VenuePoint {
  id: string;
  lat: number;
  lng: number;
}

export type LoadVenues = (ids?: string[]) => Promise<VenuePoint[]>;

/**
 * Venue positions held in memory: every count change needs its venue's map cells and every map
 * watch needs the venues in view, and neither may wait on PostgreSQL. Venues rarely change, so a
 * periodic reload plus a lookup on a miss (a venue created on another node) keeps it fresh.
 */
export class VenueCatalog {
  private byId = new Map<string, VenuePoint>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly load: LoadVenues) {}

  async start(refreshMs = 60_000): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch(() => {
        /* keep the last good copy; the next tick retries */
      });
    }, refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    const venues = await this.load();
    this.byId = new Map(venues.map((v) => [v.id, v]));
  }

  peek(id: string): VenuePoint | undefined {
    return this.byId.get(id);
  }

  /** The venue, looking it up in the database when this node has not seen it yet. */
  async get(id: string): Promise<VenuePoint | undefined> {
    const known = this.byId.get(id);
    if (known) return known;
    const [found] = await this.load([id]);
    if (found) this.byId.set(found.id, found);
    return found;
  }

  all(): IterableIterator<VenuePoint> {
    return this.byId.values();
  }

  inView(bbox: BBox, limit: number): VenuePoint[] {
    const out: VenuePoint[] = [];
    for (const v of this.byId.values()) {
      if (inBBox(bbox, v.lat, v.lng)) {
        out.push(v);
        if (out.length >= limit) break;
      }
    }
    return out;
  }
}
