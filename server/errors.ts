import type { ZodError } from 'zod';
import { ErrorCode, httpStatusFor, type WireError, type WireIssue } from '../protocol/errors';

/** The one error class the server throws on purpose; transports turn it into an ack or an HTTP body. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly issues: WireIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; issues?: WireIssue[]; details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.issues = opts.issues;
    this.details = opts.details;
    this.headers = opts.headers;
  }

  get status(): number {
    return httpStatusFor[this.code];
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message };
    if (this.issues) wire.issues = this.issues;
    if (this.details) wire.details = this.details;
    return wire;
  }
}

export function issuesFromZod(err: ZodError): WireIssue[] {
  return err.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

export function validationError(err: ZodError, message = 'Invalid input'): AppError {
  return new AppError(ErrorCode.VALIDATION, message, { issues: issuesFromZod(err) });
}

/** Anything that is not an AppError is a bug or an outage: never leak its message to clients. */
/** Prisma's known-request codes for a row that vanished under the request, not a server fault. */
const VANISHED_ROW: Record<string, [ErrorCode, string]> = {
  // A foreign key to a row deleted meanwhile (say a user removed outside the API, while a node still trusts
  // its memory that the user exists): the request refers to something gone.
  P2003: [ErrorCode.CONFLICT, 'A record this request refers to no longer exists'],
  P2025: [ErrorCode.NOT_FOUND, 'Not found'],
};

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const vanished = typeof code === 'string' ? VANISHED_ROW[code] : undefined;
  if (vanished && (err as { name?: unknown }).name === 'PrismaClientKnownRequestError') {
    return new AppError(vanished[0], vanished[1], { cause: err });
  }
  return new AppError(ErrorCode.INTERNAL, 'Internal error', { cause: err });
}
