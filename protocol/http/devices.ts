import { z } from 'zod';

export const DevicePlatform = z.enum(['IOS', 'ANDROID', 'WEB']);
/** APNs tokens are 64 hex chars, FCM ones ~160 chars with `:`; web push endpoints are longer. */
export const PushToken = z
  .string()
  .trim()
  .min(8)
  .max(1_024)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const Version = z.string().trim().min(1).max(40);

export const RegisterDeviceBody = z.strictObject({
  token: PushToken,
  platform: DevicePlatform,
  appVersion: Version.optional(),
  osVersion: Version.optional(),
  pushEnabled: z.boolean().optional(),
  /** The phone's language (BCP 47, e.g. `es-MX`): pushes are written in it where the server has it. */
  locale: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'must be a language tag like en or es-MX')
    .max(35)
    .optional(),
});
export type RegisterDeviceBody = z.infer<typeof RegisterDeviceBody>;

export const DeviceTokenParams = z.strictObject({ token: PushToken });

export const DeviceView = z.object({
  id: z.string(),
  token: z.string(),
  platform: DevicePlatform,
  appVersion: z.string().nullable(),
  osVersion: z.string().nullable(),
  pushEnabled: z.boolean(),
  locale: z.string().nullable(),
  lastSeenAt: z.string(),
  /** When the token is forgotten unless the app opens again. */
  expiresAt: z.string(),
});
export type DeviceView = z.infer<typeof DeviceView>;
export const DevicesResponse = z.object({ devices: z.array(DeviceView) });
