import { ErrorCode } from '../../protocol/errors';
import { ClientEvent } from '../../protocol/events';
import { AuthRefreshPayload } from '../../protocol/schemas';
import type { AccessTokens } from '../auth/access-tokens';
import { AppError } from '../errors';
import type { Job } from '../lib/job';
import type { SocketFeature } from './socket-server';
import type { TypedSocket } from './typed-server';
import { validated, type EventGuardDeps } from './validated';

const BUCKET_MS = 1_000;
/**
 * With connection-state recovery on, socket.io sends even a socket's own emits through the adapter (to
 * number them for replay); the Redis adapter delivers them a moment later. A close right after the
 * notice would overtake it, so the close waits this long.
 */
export const NOTICE_BEFORE_CLOSE_MS = 100;

/** Leaves every room but its own at once (no private event reaches it from now), then says why and closes. */
export function endSocket(socket: TypedSocket, reason: 'expired' | 'revoked'): void {
  for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
  socket.emit('auth:expired', { reason });
  setTimeout(() => socket.disconnect(true), NOTICE_BEFORE_CLOSE_MS).unref();
}

/**
 * A socket lives only as long as its credentials: at its access token's expiry the server tells it
 * `auth:expired` and closes it, unless the client handed over a fresh token with `auth:refresh` first.
 * Checking only on client events is not enough: a silent socket would keep receiving private events.
 *
 * Sockets sit in one-second buckets scanned by one timer, not a timer each: at tens of thousands of
 * sockets per node a Set entry costs far less memory than a Timeout.
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Set<TypedSocket>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  schedule(socket: TypedSocket): void {
    this.unschedule(socket);
    const at = socket.data.tokenExpiresAt;
    if (at === null || !socket.data.userId) return;
    const bucket = Math.ceil(at / BUCKET_MS);
    socket.data.expiryBucket = bucket;
    let set = this.buckets.get(bucket);
    if (!set) this.buckets.set(bucket, (set = new Set()));
    set.add(socket);
  }

  unschedule(socket: TypedSocket): void {
    const bucket = socket.data.expiryBucket;
    if (bucket === undefined) return;
    socket.data.expiryBucket = undefined;
    const set = this.buckets.get(bucket);
    set?.delete(socket);
    if (set?.size === 0) this.buckets.delete(bucket);
  }

  /** Closes every socket whose token has expired by `now`. */
  sweep(now = this.now()): number {
    let closed = 0;
    for (const [bucket, set] of this.buckets) {
      if (bucket * BUCKET_MS > now) continue;
      this.buckets.delete(bucket);
      for (const socket of set) {
        socket.data.expiryBucket = undefined;
        if (!socket.connected) continue;
        endSocket(socket, 'expired');
        closed++;
      }
    }
    return closed;
  }

  job(): Job {
    return {
      name: 'socket-token-expiry',
      start: () => {
        this.timer = setInterval(() => this.sweep(), BUCKET_MS);
        this.timer.unref();
      },
      stop: () => clearInterval(this.timer),
    };
  }
}

export function tokenExpiryFeature(tokens: AccessTokens, guard: EventGuardDeps, expiry: TokenExpiry): SocketFeature {
  // `auth: 'any'`: the point is to accept a socket whose token is about to run out (or just did).
  const refresh = validated(guard, ClientEvent.AuthRefresh, AuthRefreshPayload, { auth: 'any' }, async ({ token }, { socket }) => {
    if (!socket.data.userId) throw new AppError(ErrorCode.FORBIDDEN, 'An anonymous socket cannot take a token; reconnect with it instead');
    const claims = await tokens.authenticate(token);
    if (claims.userId !== socket.data.userId) throw new AppError(ErrorCode.FORBIDDEN, 'That token belongs to another user');
    if (socket.data.tokenExpiresAt !== null && claims.expiresAt < socket.data.tokenExpiresAt) {
      throw new AppError(ErrorCode.VALIDATION, 'That token expires before the one this socket holds');
    }
    socket.data.tokenExpiresAt = claims.expiresAt;
    expiry.schedule(socket);
    return { expiresAt: new Date(claims.expiresAt).toISOString() };
  });
  return {
    events: { [ClientEvent.AuthRefresh]: refresh },
    connected: (socket) => expiry.schedule(socket),
    disconnected: (socket) => expiry.unschedule(socket),
  };
}
