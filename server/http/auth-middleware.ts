import type { Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '../../protocol/errors';
import type { AccessTokens } from '../auth/access-tokens';
import { AppError } from '../errors';

/**
 * Bearer token → `res.locals.userId`; anything else is a 401 before the route runs, including a token
 * whose sessions were ended (logout-all) or whose user is gone.
 */
export function requireUser(tokens: AccessTokens): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Missing bearer token');
    res.locals.userId = (await tokens.authenticate(match[1])).userId;
    next();
  };
}

export function userIdOf(res: Response): string {
  const id: unknown = res.locals.userId;
  if (typeof id !== 'string') throw new AppError(ErrorCode.UNAUTHENTICATED, 'Not signed in');
  return id;
}

/** The client's address (as TRUST_PROXY lets Express resolve it) and user agent. */
export function clientInfo(req: Request): { ipAddress: string | null; userAgent: string | null } {
  return { ipAddress: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}
