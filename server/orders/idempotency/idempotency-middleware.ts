import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ErrorCode } from '../../../protocol/errors';
import { IDEMPOTENCY_HEADER, IdempotencyKey } from '../../../protocol/http/orders';
import { AppError, validationError } from '../../errors';
import { MAX_JSON_DEPTH } from '../../http/request-guards';
import type { Logger } from '../../observability/logger';
import type { IdempotencyStore } from './idempotency-store';

/**
 * JSON with sorted keys: the same body re-sent with its fields in another order is the same request.
 * The HTTP app refuses bodies nested deeper than MAX_JSON_DEPTH first; the depth check here keeps this
 * recursion safe for any other caller too.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_JSON_DEPTH) throw new AppError(ErrorCode.VALIDATION, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Requires an `Idempotency-Key` on the route and makes it safe to repeat:
 * no key → 400; same key and body → the first answer again (with `Idempotent-Replayed: true`);
 * same key, other body → 422; while the first is still running → 409 with Retry-After.
 * Only successful (2xx) answers are kept: an attempt that failed — validation, a limit, an outage —
 * frees the key so the client may retry it. Keys are scoped to the signed-in user and the route, so
 * two users can never collide. Mount after `requireUser`.
 */
export function requireIdempotencyKey(deps: {
  store: IdempotencyStore;
  scope: string;
  now: () => number;
  logger: Logger;
  userId: (res: Response) => string;
}): RequestHandler {
  return async (req, res, next) => {
    const header = req.get(IDEMPOTENCY_HEADER);
    if (header === undefined) {
      throw new AppError(ErrorCode.VALIDATION, `The ${IDEMPOTENCY_HEADER} header is required`, {
        issues: [{ path: ['headers', IDEMPOTENCY_HEADER], message: 'required' }],
      });
    }
    const parsed = IdempotencyKey.safeParse(header);
    if (!parsed.success) throw validationError(parsed.error, `Invalid ${IDEMPOTENCY_HEADER} header`);
    const key = `${deps.scope}:${deps.userId(res)}:${parsed.data}`;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(req.body)}`)
      .digest('base64url');

    const begun = await deps.store.begin(key, fingerprint, deps.now());
    switch (begun.kind) {
      case 'mismatch':
        throw new AppError(ErrorCode.IDEMPOTENCY_KEY_REUSED, `This ${IDEMPOTENCY_HEADER} was already used with a different request`);
      case 'in_progress':
        throw new AppError(ErrorCode.IDEMPOTENCY_IN_PROGRESS, 'A request with this key is still being processed', {
          headers: { 'Retry-After': '1' },
        });
      case 'replay':
        res.setHeader(REPLAYED_HEADER, 'true');
        res.status(begun.response.status).json(begun.response.body);
        return;
      case 'started':
        break;
    }

    // Record the answer before it leaves, so a retry sent the moment the client sees it is a replay.
    // A request that dies without answering keeps its key until the lease lapses; the order itself is
    // unique per (buyer, key) in PostgreSQL, so a takeover after that cannot charge twice.
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const status = res.statusCode;
      const done =
        status >= 200 && status < 300
          ? deps.store.complete(key, fingerprint, { status, body }, deps.now())
          : deps.store.release(key, fingerprint);
      done.catch((err: unknown) => deps.logger.error({ err, key }, 'idempotency store write failed')).finally(() => send(body));
      return res;
    };
    next();
  };
}
