import { ErrorCode } from '../../protocol/errors';
import { ClientEvent, Rooms } from '../../protocol/events';
import { CheckInPayload, HeartbeatPayload, LeavePayload, PresenceUpdatePayload } from '../../protocol/schemas';
import { AppError } from '../errors';
import { distanceMeters } from '../geo/distance';
import type { Logger } from '../observability/logger';
import type { PresenceJournal } from '../presence/presence-journal';
import type { PresenceStore } from '../presence/presence-store';
import type { CountFanout } from './count-fanout';
import type { LivenessTracker } from './liveness-tracker';
import { toPresenceView } from './presence-view';
import type { SocketFeature } from './socket-server';
import type { TypedSocket } from './typed-server';
import { validated, type EventGuardDeps } from './validated';
import type { VenueCatalog } from './venue-catalog';

export interface PresenceHandlerDeps {
  guard: EventGuardDeps;
  store: PresenceStore;
  fanout: CountFanout;
  catalog: VenueCatalog;
  journal: PresenceJournal;
  liveness: LivenessTracker;
  logger: Logger;
  now(): number;
  maxDistanceMeters: number;
  graceMs: number;
  /** True while this node drains: closed sockets then reconnect elsewhere, so no grace cut applies. */
  isDraining(): boolean;
  /** This node's incarnation (node-reaper.ts): the stays whose sockets it holds carry it. */
  nodeKey(): string;
  /** Cluster only: asks the other nodes whether one still holds a socket of the user and took the stay over (device-handover.ts). */
  reclaimElsewhere?(socket: TypedSocket, userId: string): Promise<boolean>;
}

function moveToVenueRoom(socket: TypedSocket, venueId: string | null): void {
  for (const room of socket.rooms)
    if (room.startsWith(Rooms.venuePeople('')) && room !== (venueId && Rooms.venuePeople(venueId))) void socket.leave(room);
  if (venueId) void socket.join(Rooms.venuePeople(venueId));
}

const noop = () => {};

/**
 * Applies one socket's presence operations in the order they arrived. A write still in flight when the
 * socket closes (a slow check-in, the restore of a reconnect) must not land after the grace cut and
 * leave a full lease behind: the cut is queued behind it and so is always the socket's last word. And a
 * heartbeat sent after a check-in answers with that check-in's outcome, however slow the store was.
 */
function inOrder<T>(socket: TypedSocket, op: () => Promise<T>): Promise<T> {
  socket.data.presencePending = (socket.data.presencePending ?? 0) + 1;
  const run = (socket.data.presenceOps ?? Promise.resolve()).then(op).finally(() => {
    socket.data.presencePending = (socket.data.presencePending ?? 1) - 1;
    // Nothing queued behind: the next operation may start at once, and an idle socket (nearly all of
    // them) does not hold a settled promise chain for its lifetime.
    if (socket.data.presencePending === 0) socket.data.presenceOps = undefined;
  });
  socket.data.presenceOps = run.then(noop, noop);
  return run;
}

export function presenceHandlers(d: PresenceHandlerDeps): SocketFeature {
  const checkIn = validated(d.guard, ClientEvent.CheckIn, CheckInPayload, { auth: 'user' }, async (p, { socket, userId }) => {
    const venue = await d.catalog.get(p.venueId);
    if (!venue) throw new AppError(ErrorCode.NOT_FOUND, 'No such venue');
    const meters = distanceMeters(p.lat, p.lng, venue.lat, venue.lng);
    if (meters > d.maxDistanceMeters) {
      throw new AppError(ErrorCode.TOO_FAR, 'You are too far from this venue to check in', {
        details: { distanceMeters: Math.round(meters), maxDistanceMeters: d.maxDistanceMeters },
      });
    }
    const result = await inOrder(socket, async () => {
      const r = await d.store.checkIn({ ...p, userId, now: d.now(), nodeId: d.nodeKey() });
      socket.data.presenceSeenAt = r.presence.lastSeenAt;
      // Closed meanwhile: the queued grace cut owns the stay now, not this node's heartbeat clock.
      if (socket.connected) {
        d.liveness.beat(userId, r.presence);
        moveToVenueRoom(socket, p.venueId);
      }
      return r;
    });
    d.fanout.publish(result.changes);
    d.journal.record(userId, result.presence, result.previousVenueId);
    const here = result.changes.find((c) => c.venueId === p.venueId) ?? {
      venueId: p.venueId,
      ...(await d.store.getCounts([p.venueId])).get(p.venueId)!,
    };
    return { presence: toPresenceView(result.presence), previousVenueId: result.previousVenueId, count: here };
  });

  const heartbeat = validated(d.guard, ClientEvent.Heartbeat, HeartbeatPayload, { auth: 'user' }, async (p, { socket, userId }) => {
    // The hot path of a night: most heartbeats are answered from this node's memory (see
    // liveness-tracker.ts); the store is asked only when the lease nears its end.
    if (!socket.data.presencePending) {
      const cached = d.liveness.beatIfFresh(userId);
      if (cached) return { presence: toPresenceView(cached) };
    }
    const pos = p.lat !== undefined && p.lng !== undefined ? { lat: p.lat, lng: p.lng } : undefined;
    return await inOrder(socket, async () => {
      const cached = d.liveness.beatIfFresh(userId);
      if (cached) return { presence: toPresenceView(cached) };
      const { presence, wrote } = await d.store.heartbeat(userId, d.now(), pos);
      if (presence && wrote) socket.data.presenceSeenAt = presence.lastSeenAt;
      if (socket.connected) {
        if (presence) d.liveness.beat(userId, presence);
        else d.liveness.forget(userId);
      }
      return { presence: presence ? toPresenceView(presence) : null };
    });
  });

  const leave = validated(d.guard, ClientEvent.Leave, LeavePayload, { auth: 'user' }, async (p, { socket, userId }) => {
    const { changes, venueId } = await inOrder(socket, async () => {
      const r = await d.store.leave(userId, d.now(), p.venueId);
      if (r.venueId) {
        d.liveness.forget(userId);
        moveToVenueRoom(socket, null);
      }
      return r;
    });
    d.fanout.publish(changes);
    if (venueId) d.journal.record(userId, null, venueId);
    return { left: venueId !== null };
  });

  const update = validated(d.guard, ClientEvent.PresenceUpdate, PresenceUpdatePayload, { auth: 'user' }, async (p, { socket, userId }) => {
    const presence = await inOrder(socket, async () => {
      const r = await d.store.update(userId, p, d.now());
      if (r && socket.connected) d.liveness.beat(userId, r);
      return r;
    });
    if (!presence) throw new AppError(ErrorCode.NOT_CHECKED_IN, 'Check in first');
    d.journal.record(userId, presence);
    return { presence: toPresenceView(presence) };
  });

  return {
    events: {
      [ClientEvent.CheckIn]: checkIn,
      [ClientEvent.Heartbeat]: heartbeat,
      [ClientEvent.Leave]: leave,
      [ClientEvent.PresenceUpdate]: update,
    },
    connected: (socket) => {
      const userId = socket.data.userId;
      if (!userId) return;
      void socket.join(Rooms.user(userId));
      // A phone that reconnects within the grace period resumes its stay: the store restores the
      // expiry that the closed socket had cut short and marks the takeover, so the old socket's close,
      // however late a node notices it, cannot cut the stay again; the socket rejoins its people room.
      void inOrder(socket, () => d.store.resume(userId, d.now(), d.nodeKey()))
        .then((presence) => {
          if (!presence) return;
          socket.data.presenceSeenAt = presence.lastSeenAt;
          if (!socket.connected) return;
          d.liveness.beat(userId, presence);
          moveToVenueRoom(socket, presence.venueId);
        })
        .catch((err: unknown) => d.logger.warn({ err, userId }, 'presence restore on connect failed'));
    },
    disconnected: (socket) => {
      const userId = socket.data.userId;
      if (!userId || d.isDraining() || socket.data.handedBack) return;
      // From here the grace period (a shortened lease, visible to every node) decides, not this node.
      if ((socket.nsp.adapter.rooms.get(Rooms.user(userId))?.size ?? 0) === 0) d.liveness.forget(userId);
      const closedAt = d.now();
      // Queued behind this socket's writes in flight; the grace still counts from the close.
      inOrder(socket, async () => {
        // Another socket of the same user on this node (a second device, a reconnect that won the race)
        // keeps the stay alive; a newer connection on another node has written the stay since this
        // socket last did, which the store checks. A socket that never held the stay cuts nothing.
        if ((socket.nsp.adapter.rooms.get(Rooms.user(userId))?.size ?? 0) > 0) return;
        let seenAt = socket.data.presenceSeenAt;
        if (seenAt === undefined) return;
        // This node's own lease renewal in flight wrote the stay too; the cut comes after it.
        const renewed = await d.liveness.renewalInFlight(userId);
        if (renewed && renewed.lastSeenAt > seenAt) seenAt = renewed.lastSeenAt;
        // The newer of two devices closing: an older one on another node keeps the stay.
        if (d.reclaimElsewhere && (await d.reclaimElsewhere(socket, userId))) return;
        await d.store.expireAt(userId, closedAt + d.graceMs, d.now(), { unlessSeenAfter: seenAt });
      }).catch((err: unknown) => d.logger.warn({ err, userId }, 'grace period start failed'));
    },
  };
}
