import { z } from 'zod';
import { Id } from '../schemas';

/** Query strings arrive as text; numbers are parsed strictly (no `''` → 0 coercion surprises). */
export const numberParam = (inner: z.ZodNumber) =>
  z
    .string()
    .trim()
    .regex(/^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i, 'must be a number')
    .transform(Number)
    .pipe(inner);

export const IdParams = z.strictObject({ id: Id });
export const UserIdParams = z.strictObject({ userId: Id });

/** What anyone may see of another user. */
export const PublicUser = z.object({
  id: z.string(),
  displayName: z.string(),
  profileImageUrl: z.string().nullable(),
});
export type PublicUser = z.infer<typeof PublicUser>;

export const OkResponse = z.object({ ok: z.literal(true) });
