/**
 * Machine-readable error codes shared by socket acks, HTTP bodies, clients and tests.
 * One list; the HTTP status for each lives beside it so transports never disagree.
 */
export const ErrorCode = {
  VALIDATION: 'VALIDATION',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  TOO_FAR: 'TOO_FAR',
  NOT_CHECKED_IN: 'NOT_CHECKED_IN',
  BLOCKED: 'BLOCKED',
  LIMIT_REACHED: 'LIMIT_REACHED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  PAYMENT_FAILED: 'PAYMENT_FAILED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const httpStatusFor: Record<ErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  TOO_FAR: 422,
  NOT_CHECKED_IN: 403,
  BLOCKED: 403,
  LIMIT_REACHED: 429,
  INVALID_TRANSITION: 409,
  PAYMENT_FAILED: 402,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A zod issue flattened for the wire: where and what, nothing internal. */
export interface WireIssue {
  path: (string | number)[];
  message: string;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  issues?: WireIssue[];
  /** Extra machine-readable facts, e.g. who scanned a QR code first. */
  details?: Record<string, unknown>;
}

/** Every client→server socket event is acknowledged with exactly this shape. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

/** HTTP error bodies. */
export interface HttpErrorBody {
  error: WireError;
}
