import type { RequestHandler } from 'express';
import type { AccessTokens } from './access-tokens';
import { requireUser } from '../http/auth-middleware';

/**
 * Like `requireUser`, but a request without an Authorization header goes on anonymously (the web map
 * reads venues signed out). A header that is present must still be a valid token: a bad one is a 401,
 * not a silent downgrade that would hide the client's bug.
 */
export function optionalUser(tokens: AccessTokens): RequestHandler {
  const required = requireUser(tokens);
  return (req, res, next) => {
    if (req.headers.authorization === undefined) return next();
    return required(req, res, next);
  };
}

export function maybeUserId(res: { locals: Record<string, unknown> }): string | null {
  const id = res.locals.userId;
  return typeof id === 'string' ? id : null;
}
