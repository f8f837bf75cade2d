import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCode } from '../../protocol/errors';
import type { AppContext } from '../context';
import { AppError } from '../errors';
import type { LimitSpec, Limiter, RateLimits } from './limits';

/**
 * Redis-backed when the server has Redis, so every node spends from one budget; in memory otherwise
 * (single node). If Redis is unreachable the in-memory limiter stands in rather than failing requests
 * or letting them all through.
 */
export function createLimiter(ctx: Pick<AppContext, 'redis'>, spec: LimitSpec): Limiter {
  const base = { keyPrefix: `rl:${spec.name}`, points: spec.points, duration: spec.durationSeconds };
  const memory = new RateLimiterMemory(base);
  const limiter: RateLimiterAbstract = ctx.redis
    ? new RateLimiterRedis({ ...base, storeClient: ctx.redis.main, rejectIfRedisNotReady: true, insuranceLimiter: memory })
    : memory;
  return {
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
      } catch (rej) {
        if (rej instanceof RateLimiterRes) {
          const retryAfter = Math.max(1, Math.ceil(rej.msBeforeNext / 1000));
          throw new AppError(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfter} s`, {
            headers: { 'Retry-After': String(retryAfter) },
            details: { retryAfterSeconds: retryAfter, limit: spec.name },
          });
        }
        throw rej;
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

export interface RateLimitSettings {
  authPerMinute: number;
  writesPerMinute: number;
  codeResendSeconds: number;
  codeSendsPerHour: number;
}

/** The limits this server applies, built once by the composition root and shared by every feature. */
export function buildRateLimits(ctx: Pick<AppContext, 'redis'>, s: RateLimitSettings): RateLimits {
  return {
    authIp: createLimiter(ctx, { name: 'auth-ip', points: s.authPerMinute, durationSeconds: 60 }),
    userWrites: createLimiter(ctx, { name: 'user-writes', points: s.writesPerMinute, durationSeconds: 60 }),
    codeResend: createLimiter(ctx, { name: 'code-resend', points: 1, durationSeconds: Math.max(1, s.codeResendSeconds) }),
    codeHourly: createLimiter(ctx, { name: 'code-hourly', points: s.codeSendsPerHour, durationSeconds: 3_600 }),
  };
}

/** Per client IP (Express resolves it through `trust proxy`). */
export function limitByIp(limiter: Limiter): RequestHandler {
  return async (req, _res, next) => {
    await limiter.consume(req.ip ?? 'unknown');
    next();
  };
}

/** Per signed-in user, for writes only; mount after `requireUser`. Reads are left to the IP-level proxies. */
export function limitUserWrites(ctx: AppContext): RequestHandler {
  const limiter = ctx.limits.userWrites;
  return async (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const userId: unknown = res.locals.userId;
    if (typeof userId === 'string') await limiter.consume(userId);
    next();
  };
}
