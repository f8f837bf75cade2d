import type { RequestHandler } from 'express';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';

/** Deeper than any body the API defines; recursive code downstream (canonical JSON, zod) stays far from the stack limit. */
export const MAX_JSON_DEPTH = 32;

/**
 * A request that carries a body must say it is JSON: anything else is 415 before a parser or route
 * sees it (a form post would otherwise reach routes as an empty body).
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  // `req.is` answers null when there is no body at all, false when there is one of another type. A
  // browser's bodiless POST (`fetch(url, { method: 'POST' })`, the tablet's confirm) still sends
  // `Content-Length: 0` and no type, which type-is counts as a body: an empty body is no body.
  if (req.get('content-length') === '0') return next();
  if (req.is(['application/json', 'application/*+json']) === false) {
    throw new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Request bodies must be application/json', {
      details: { contentType: req.get('content-type') ?? null },
    });
  }
  next();
};

/** Nesting depth of a parsed JSON value, walked without recursion so a hostile body cannot overflow the stack here either. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}

export const limitJsonDepth: RequestHandler = (req, _res, next) => {
  if (jsonDepthExceeds(req.body, MAX_JSON_DEPTH)) {
    throw new AppError(ErrorCode.VALIDATION, `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`, {
      details: { maxDepth: MAX_JSON_DEPTH },
    });
  }
  next();
};
