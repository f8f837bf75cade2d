import type { z } from 'zod';
import type { ErrorCode } from '../errors';

/**
 * One HTTP operation with the schemas it is validated with. Its own file so the feature lists
 * (orders, staff, meta…) and the combined list in operations.ts both depend on it, not on each other.
 */
export interface HttpOperation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: `/api/venues/{id}`. */
  path: string;
  summary: string;
  tag: string;
  auth: 'required' | 'optional' | 'none';
  devOnly?: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Request headers the route validates (e.g. `Idempotency-Key`), one property per header. */
  headers?: z.ZodType;
  /** Success status → body schema (null: no body). */
  responses: Record<number, z.ZodType | null>;
  /** Media type of the success body (`application/json` unless set). */
  produces?: string;
  /**
   * Error codes this operation answers beyond the ones every operation can (VALIDATION when it takes
   * input, UNAUTHENTICATED/FORBIDDEN when signed in, NOT_FOUND with a path id, RATE_LIMITED, INTERNAL, UNAVAILABLE).
   */
  errors?: ErrorCode[];
}
