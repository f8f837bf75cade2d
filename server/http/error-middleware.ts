import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorCode, type HttpErrorBody } from '../../protocol/errors';
import { AppError, toAppError } from '../errors';
import type { Logger } from '../observability/logger';

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError(ErrorCode.NOT_FOUND, `No route for ${req.method} ${req.path}`));
};

/** Body-parser and other middleware errors carry an HTTP status and a `type`; map them to our codes. */
function fromMiddlewareError(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null || err instanceof AppError) return undefined;
  const e = err as { type?: unknown; status?: unknown; expose?: unknown };
  if (e.type === 'entity.too.large') return new AppError(ErrorCode.PAYLOAD_TOO_LARGE, 'Request body too large', { cause: err });
  if (e.type === 'entity.parse.failed') return new AppError(ErrorCode.VALIDATION, 'Malformed JSON body', { cause: err });
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Unsupported body encoding or charset', { cause: err });
  }
  // The router cannot decode a path parameter such as `%ff` or `%E0%A4%A`: the client's URL is broken.
  if (err instanceof URIError) return new AppError(ErrorCode.VALIDATION, 'Malformed percent-escape in the URL', { cause: err });
  // Any other client error a middleware raised the http-errors way (a `type`, or `expose` as body-parser
  // sets it when a gzip or deflate body does not inflate): still the client's fault, still a 4xx.
  if ((typeof e.type === 'string' || e.expose === true) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.status === 404) return new AppError(ErrorCode.NOT_FOUND, 'Not found', { cause: err });
    return new AppError(ErrorCode.VALIDATION, 'Unreadable request body', { cause: err });
  }
  return undefined;
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appErr = fromMiddlewareError(err) ?? toAppError(err);
    if (appErr.code === ErrorCode.INTERNAL) {
      logger.error({ err: appErr.cause ?? err, method: req.method, url: req.originalUrl }, 'unhandled error in HTTP route');
    }
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(appErr.headers ?? {})) res.setHeader(k, v);
    const body: HttpErrorBody = { error: appErr.toWire() };
    res.status(appErr.status).json(body);
  };
}
