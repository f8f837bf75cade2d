import type { z } from 'zod';
import { validationError } from '../errors';

/** Parses untrusted input; anything zod refuses becomes a 400 VALIDATION error naming each issue. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, `Invalid ${what}`);
  return result.data;
}
