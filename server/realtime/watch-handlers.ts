import { ClientEvent, Rooms, type VenueCount } from '../../protocol/events';
import { EmptyPayload, MapWatchPayload, VenueWatchPayload } from '../../protocol/schemas';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import type { PresenceStore } from '../presence/presence-store';
import type { CountTable } from '../venues/count-table';
import { cellsForView } from './map-cells';
import type { SocketFeature } from './socket-server';
import type { TypedSocket } from './typed-server';
import { validated, type EventGuardDeps } from './validated';
import type { VenueCatalog } from './venue-catalog';

/** A socket may follow this many venues directly: each is a room on this node (and a Redis channel). */
export const MAX_WATCHED_VENUES_PER_SOCKET = 500;
/** A map snapshot lists at most this many venues; a map showing more is zoomed out past usefulness. */
export const MAX_SNAPSHOT_VENUES = 500;

export interface WatchHandlerDeps {
  guard: EventGuardDeps;
  store: PresenceStore;
  catalog: VenueCatalog;
  /** Snapshots are sent to viewers too: the REST count table must hold what they were sent. */
  table?: Pick<CountTable, 'record'>;
}

function watchedVenueCount(socket: TypedSocket): number {
  let n = 0;
  for (const room of socket.rooms) if (room.startsWith(Rooms.venue(''))) n++;
  return n;
}

async function countsOf(store: PresenceStore, venueIds: string[], table?: WatchHandlerDeps['table']): Promise<VenueCount[]> {
  if (venueIds.length === 0) return [];
  const counts = await store.getCounts(venueIds);
  const out = venueIds.map((venueId) => ({ venueId, ...(counts.get(venueId) ?? { count: 0, version: 0 }) }));
  for (const c of out) table?.record(c);
  return out;
}

/** Watching is open to anonymous viewers: the web map shows counts to anyone. */
export function watchHandlers(d: WatchHandlerDeps): SocketFeature {
  const venueWatch = validated(d.guard, ClientEvent.VenueWatch, VenueWatchPayload, { auth: 'any' }, async (p, { socket }) => {
    const ids = [...new Set(p.venueIds)];
    const known: string[] = [];
    for (const id of ids) if (await d.catalog.get(id)) known.push(id);
    const fresh = known.filter((id) => !socket.rooms.has(Rooms.venue(id)));
    if (watchedVenueCount(socket) + fresh.length > MAX_WATCHED_VENUES_PER_SOCKET) {
      throw new AppError(ErrorCode.LIMIT_REACHED, `At most ${MAX_WATCHED_VENUES_PER_SOCKET} venues per connection`);
    }
    // Join before reading so a change landing between the read and the join is not lost: the
    // client keeps the higher version of the snapshot and the live message.
    await socket.join(known.map(Rooms.venue));
    const counts = await countsOf(d.store, known, d.table);
    socket.emit('venue:snapshot', { counts });
    return { counts };
  });

  const venueUnwatch = validated(d.guard, ClientEvent.VenueUnwatch, VenueWatchPayload, { auth: 'any' }, async (p, { socket }) => {
    for (const id of p.venueIds) await socket.leave(Rooms.venue(id));
    return { watching: watchedVenueCount(socket) };
  });

  const mapWatch = validated(d.guard, ClientEvent.MapWatch, MapWatchPayload, { auth: 'any' }, async (p, { socket }) => {
    const cells = cellsForView(p.bbox).map(Rooms.mapCell);
    const keep = new Set(cells);
    for (const old of socket.data.mapCells ?? []) if (!keep.has(old)) await socket.leave(old);
    await socket.join(cells);
    socket.data.mapCells = cells;
    const venues = d.catalog.inView(p.bbox, MAX_SNAPSHOT_VENUES);
    const counts = await countsOf(
      d.store,
      venues.map((v) => v.id),
      d.table,
    );
    socket.emit('venue:snapshot', { counts });
    return { counts };
  });

  const mapUnwatch = validated(d.guard, ClientEvent.MapUnwatch, EmptyPayload, { auth: 'any' }, async (_p, { socket }) => {
    for (const old of socket.data.mapCells ?? []) await socket.leave(old);
    socket.data.mapCells = [];
    return { watching: 0 };
  });

  return {
    events: {
      [ClientEvent.VenueWatch]: venueWatch,
      [ClientEvent.VenueUnwatch]: venueUnwatch,
      [ClientEvent.MapWatch]: mapWatch,
      [ClientEvent.MapUnwatch]: mapUnwatch,
    },
  };
}
