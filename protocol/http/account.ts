import { z } from 'zod';
import { Email, OneTimeCode, Phone } from './auth';

/**
 * Deleting an account needs a fresh one-time code sent to the account's own email or phone
 * (`POST /api/auth/code/request`): a stolen access token alone cannot delete anyone.
 */
export const DeleteAccountBody = z.discriminatedUnion('channel', [
  z.strictObject({ channel: z.literal('email'), destination: Email, code: OneTimeCode }),
  z.strictObject({ channel: z.literal('phone'), destination: Phone, code: OneTimeCode }),
]);
export type DeleteAccountBody = z.infer<typeof DeleteAccountBody>;

export const DeleteAccountResponse = z.object({
  deleted: z.literal(true),
  /** Open treats ended by the deletion (their card holds released). */
  endedOrders: z.number().int(),
});
export type DeleteAccountResponse = z.infer<typeof DeleteAccountResponse>;
