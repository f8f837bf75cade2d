import type { Ack } from './errors';
import type {
  AuthRefreshPayload,
  CheckInPayload,
  EmptyPayload,
  HeartbeatPayload,
  LeavePayload,
  MapWatchPayload,
  PresenceUpdatePayload,
  StaffJoinPayload,
  VenueWatchPayload,
} from './schemas';

/** Event names, declared once. Renaming one breaks every shipped app: write the reason in protocol/README.md. */
export const ClientEvent = {
  CheckIn: 'presence:checkin',
  Heartbeat: 'presence:heartbeat',
  Leave: 'presence:leave',
  PresenceUpdate: 'presence:update',
  VenueWatch: 'venue:watch',
  VenueUnwatch: 'venue:unwatch',
  MapWatch: 'map:watch',
  MapUnwatch: 'map:unwatch',
  StaffJoin: 'staff:join',
  AuthRefresh: 'auth:refresh',
} as const;
export type ClientEvent = (typeof ClientEvent)[keyof typeof ClientEvent];

export const ServerEvent = {
  VenueCount: 'venue:count',
  VenueSnapshot: 'venue:snapshot',
  FriendPresence: 'friend:presence',
  VenuePeople: 'venue:people',
  OrderReceived: 'order:received',
  OrderUpdated: 'order:updated',
  OrderPaid: 'order:paid',
  RedemptionNew: 'redemption:new',
  ServerShutdown: 'server:shutdown',
  AuthExpired: 'auth:expired',
} as const;
export type ServerEvent = (typeof ServerEvent)[keyof typeof ServerEvent];

export interface VenueCount {
  venueId: string;
  count: number;
  /** Per-venue, only grows: a client keeps the highest it has seen and drops anything older. */
  version: number;
}

export interface PresenceView {
  venueId: string;
  checkedInAt: string;
  expiresAt: string;
  wantsToBuy: boolean;
  wantsToReceive: boolean;
  visible: boolean;
}

export interface CheckInResult {
  presence: PresenceView;
  previousVenueId: string | null;
  count: VenueCount;
}

export interface PersonAtVenue {
  userId: string;
  displayName: string;
  profileImageUrl: string | null;
  wantsToBuy: boolean;
  wantsToReceive: boolean;
  /** Per viewer: true when this person is an accepted friend of whoever receives the list or message. */
  isFriend: boolean;
}

/**
 * `upsert`: the person is (now) on the list with this state: add or replace by userId.
 * `remove`: the person is off the list (left, moved, expired, went invisible, or a block now stands
 * between you); removing someone not on the list is a no-op.
 */
export type VenuePeopleChange = { type: 'upsert'; person: PersonAtVenue } | { type: 'remove'; userId: string };

/**
 * Changes to the people list of the venue the receiver is checked in at, applied in order on top of
 * `GET /api/venues/:id/people`. At most one message per venue per coalescing window reaches a socket;
 * inside it, at most one change per person (the newest state). Never about the receiver themself or
 * anyone in a block with them; `isFriend` is computed for the receiver.
 */
export interface VenuePeopleMessage {
  venueId: string;
  changes: VenuePeopleChange[];
}

/** A people-list change as nodes relay it to each other: the person (null: off the list), no per-viewer facts yet. */
export interface VenuePeopleRelay {
  venueId: string;
  userId: string;
  person: Omit<PersonAtVenue, 'isFriend'> | null;
}

export interface OrderView {
  id: string;
  buyerId: string;
  recipientId: string;
  venueId: string;
  amountCents: number;
  currency: string;
  status: 'PENDING' | 'PAID' | 'ACCEPTED' | 'REJECTED' | 'REDEEMED' | 'EXPIRED' | 'CANCELLED';
  paymentMethod: 'STRIPE' | 'APPLE_PAY' | 'GOOGLE_PAY';
  items: { menuItemId: string; name: string; quantity: number; priceCents: number }[] | null;
  message: string | null;
  createdAt: string;
  expiresAt: string;
}

export interface RedemptionView {
  id: string;
  orderId: string;
  status: 'PENDING' | 'SCANNED' | 'REDEEMED' | 'CANCELLED';
  scannedAt: string | null;
  bartenderId: string | null;
}

export interface ShutdownNotice {
  /** The client should reconnect (to any node) after roughly this many ms. */
  reconnectAfterMs: number;
}

/** Sent just before the server closes a socket whose credentials ended; reconnect with a fresh token. */
export interface AuthExpiredNotice {
  /** `expired`: the access token ran out without an `auth:refresh`; `revoked`: logout-all or account deletion. */
  reason: 'expired' | 'revoked';
}

type AckFn<T> = (ack: Ack<T>) => void;

export interface ClientToServerEvents {
  'presence:checkin': (payload: CheckInPayload, ack: AckFn<CheckInResult>) => void;
  'presence:heartbeat': (payload: HeartbeatPayload, ack: AckFn<{ presence: PresenceView | null }>) => void;
  'presence:leave': (payload: LeavePayload, ack: AckFn<{ left: boolean }>) => void;
  'presence:update': (payload: PresenceUpdatePayload, ack: AckFn<{ presence: PresenceView }>) => void;
  'venue:watch': (payload: VenueWatchPayload, ack: AckFn<{ counts: VenueCount[] }>) => void;
  'venue:unwatch': (payload: VenueWatchPayload, ack: AckFn<{ watching: number }>) => void;
  'map:watch': (payload: MapWatchPayload, ack: AckFn<{ counts: VenueCount[] }>) => void;
  'map:unwatch': (payload: EmptyPayload, ack: AckFn<{ watching: number }>) => void;
  /** Staff tablets join their venue's staff room to receive paid orders and redemptions. */
  'staff:join': (payload: StaffJoinPayload, ack: AckFn<{ venueId: string }>) => void;
  /** Hands the socket a fresh access token of the same user, moving its expiry; answers the new expiry (ISO). */
  'auth:refresh': (payload: AuthRefreshPayload, ack: AckFn<{ expiresAt: string }>) => void;
}

export interface ServerToClientEvents {
  'venue:count': (msg: VenueCount) => void;
  'venue:snapshot': (msg: { counts: VenueCount[] }) => void;
  'friend:presence': (msg: { userId: string; venueId: string | null }) => void;
  'venue:people': (msg: VenuePeopleMessage) => void;
  'order:received': (msg: { order: OrderView }) => void;
  'order:updated': (msg: { order: OrderView; redemption?: RedemptionView }) => void;
  'order:paid': (msg: { order: OrderView }) => void;
  'redemption:new': (msg: { order: OrderView; redemption: RedemptionView }) => void;
  'server:shutdown': (msg: ShutdownNotice) => void;
  'auth:expired': (msg: AuthExpiredNotice) => void;
}

/** One node's count and people-list changes of one fan-out window: a single Redis publish. */
export interface NodeFanoutFrame {
  counts: VenueCount[];
  people: VenuePeopleRelay[];
}

/** Node-to-node messages through the socket.io adapter (Redis); never seen by clients. */
export interface InterServerEvents {
  /** Everything one node changed in one window (see server/realtime/node-outbox.ts). */
  'node:fanout': (frame: NodeFanoutFrame) => void;
  /** Count changes made on one node, so every node can coalesce and deliver them to its own viewers (sent by nodes before `node:fanout`; still accepted). */
  'venue:counts': (changes: VenueCount[]) => void;
  /** People-list changes made on one node, so every node can coalesce and filter them for its own viewers. */
  'venue:people-changes': (changes: VenuePeopleRelay[]) => void;
  /** A friendship or block between these users changed: every node drops their cached friend lists. */
  'friends:changed': (userIds: string[]) => void;
  /**
   * A user's socket holding their stay closed on one node: a node that still has another socket of the
   * user (an older device) takes the stay over and answers true, so the close cuts no grace period.
   */
  'presence:reclaim': (msg: { userId: string }, ack: (held: boolean) => void) => void;
}

/** Room names, built in one place so emitters and joiners never disagree. */
export const Rooms = {
  venue: (venueId: string) => `venue:${venueId}`,
  venuePeople: (venueId: string) => `people:${venueId}`,
  user: (userId: string) => `user:${userId}`,
  staff: (venueId: string) => `staff:${venueId}`,
  mapCell: (cell: string) => `cell:${cell}`,
} as const;
