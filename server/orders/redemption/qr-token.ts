import { createHash, randomBytes } from 'node:crypto';

/**
 * A QR code is 256 random bits: unguessable, so no signature or expiry is needed inside it. Only its
 * SHA-256 is stored (a leaked database cannot be turned into pourable codes); a plain hash suffices
 * because the input has full entropy — there is nothing to brute-force.
 */
export function newQrCode(): { code: string; hash: string } {
  const code = randomBytes(32).toString('base64url');
  return { code, hash: hashQrCode(code) };
}

export function hashQrCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}
