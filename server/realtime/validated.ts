import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { z } from 'zod';
import { ErrorCode, type Ack } from '../../protocol/errors';
import { AppError, toAppError, validationError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { TypedSocket } from './typed-server';

export interface EventGuardDeps {
  logger: Logger;
  metrics: Metrics;
  /** Per-socket token bucket: the socket is local to this node, so an in-memory limiter is exact. */
  limiter: RateLimiterMemory;
}

export function createEventLimiter(perSecond: number, burst: number): RateLimiterMemory {
  // Points = burst capacity refilled over the window that yields `perSecond` on average.
  return new RateLimiterMemory({ points: burst, duration: Math.max(1, Math.round(burst / perSecond)) });
}

export interface HandlerContext {
  socket: TypedSocket;
  /** Set when the event requires a signed-in user. */
  userId: string;
}

type AnyAck = (ack: Ack<unknown>) => void;

/**
 * Wraps a socket event handler: rate limit, auth, zod validation and a coded error ack, so the
 * handler only ever sees parsed data and can only fail by throwing. A client that sends no ack
 * callback still gets validated; it just hears nothing back.
 */
export function validated<S extends z.ZodType, R>(
  deps: EventGuardDeps,
  event: string,
  schema: S,
  opts: { auth: 'user' | 'any' },
  handler: (payload: z.infer<S>, ctx: HandlerContext) => Promise<R>,
) {
  return async (socket: TypedSocket, ...args: unknown[]): Promise<void> => {
    const last = args[args.length - 1];
    const ack: AnyAck = typeof last === 'function' ? (last as AnyAck) : () => {};
    const raw = typeof last === 'function' && args.length === 1 ? undefined : args[0];
    try {
      try {
        await deps.limiter.consume(socket.id);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          throw new AppError(ErrorCode.RATE_LIMITED, 'Too many events', { details: { retryAfterMs: err.msBeforeNext } });
        }
        throw err;
      }
      let userId = '';
      if (opts.auth === 'user') {
        if (!socket.data.userId) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Sign in to do this');
        if (socket.data.tokenExpiresAt !== null && socket.data.tokenExpiresAt <= Date.now()) {
          throw new AppError(ErrorCode.UNAUTHENTICATED, 'Access token expired: reconnect with a fresh token');
        }
        userId = socket.data.userId;
      }
      const parsed = schema.safeParse(raw ?? {});
      if (!parsed.success) throw validationError(parsed.error, `Invalid ${event} payload`);
      const data = await handler(parsed.data, { socket, userId });
      deps.metrics.socketEvents.labels(event, 'ok').inc();
      ack({ ok: true, data });
    } catch (err) {
      const appErr = toAppError(err);
      deps.metrics.socketEvents.labels(event, appErr.code).inc();
      if (appErr.code === ErrorCode.INTERNAL) {
        deps.logger.error({ err: appErr.cause ?? err, event, socket: socket.id }, 'socket handler failed');
      }
      ack({ ok: false, error: appErr.toWire() });
    }
  };
}
