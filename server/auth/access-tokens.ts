import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import { setNewest } from '../lib/bounded-map';

/**
 * Access tokens are short-lived HS256 JWTs. The algorithm, issuer and audience are pinned on verify so a
 * token signed with `alg: none` or with another algorithm (RS/HS confusion) is refused outright.
 */
const ALGORITHM = 'HS256' as const;
const ISSUER = 'treatme';
const AUDIENCE = 'treatme-app';

// `ims`: issued-at in ms. `iat` has whole seconds only, too coarse to tell a token issued just before a
// logout-all from one issued just after it.
const Claims = z.object({
  sub: z.string().min(1),
  typ: z.literal('access'),
  exp: z.number(),
  iat: z.number().optional(),
  ims: z.number().optional(),
});
export interface AccessClaims {
  userId: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms. */
  issuedAt: number;
}

/** What a signed token must also satisfy at use (sessions not ended since, user still there). */
export interface CredentialGuard {
  check(claims: AccessClaims): Promise<void>;
}

/** Tokens whose signature and claims were verified lately (a phone sends the same one for minutes). */
const MAX_VERIFIED = 20_000;

export class AccessTokens {
  /**
   * The secret as a key object: given a string, jsonwebtoken first tries it as a public key on every
   * verify (a thrown parse error each time: about a tenth of a warm venue answer's CPU).
   */
  private readonly key: KeyObject;
  /**
   * Token text → its verified claims. A token is immutable and its signature either holds or not, so
   * only the expiry can change an answer, and it is checked at every use; the checks that depend on the
   * stores (the guard) still run every time. Saves the HMAC, base64 and JSON work of every request.
   */
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly guard?: CredentialGuard,
  ) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  sign(userId: string, ttlSeconds = this.ttlSeconds): string {
    return jwt.sign({ typ: 'access', ims: Date.now() }, this.key, {
      algorithm: ALGORITHM,
      subject: userId,
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: ttlSeconds,
    });
  }

  verify(token: string): AccessClaims {
    const known = this.verified.get(token);
    // jsonwebtoken's rule: expired once the clock reaches `exp` (whole seconds, so this is exact).
    if (known && Date.now() < known.expiresAt) return known;
    if (known) this.verified.delete(token);
    const claims = this.verifySigned(token);
    setNewest(this.verified, token, claims, MAX_VERIFIED);
    return claims;
  }

  private verifySigned(token: string): AccessClaims {
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.key, { algorithms: [ALGORITHM], issuer: ISSUER, audience: AUDIENCE });
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw new AppError(ErrorCode.UNAUTHENTICATED, expired ? 'Access token expired' : 'Invalid access token', { cause: err });
    }
    const claims = Claims.safeParse(decoded);
    if (!claims.success) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid access token');
    const d = claims.data;
    return { userId: d.sub, expiresAt: d.exp * 1000, issuedAt: d.ims ?? (d.iat ?? 0) * 1000 };
  }

  /** `verify`, then the checks that need the stores: what every route and the socket handshake use. */
  async authenticate(token: string): Promise<AccessClaims> {
    const claims = this.verify(token);
    await this.guard?.check(claims);
    return claims;
  }

  /**
   * A key for another purpose (code hashing, invite tokens) derived from the same secret, so every node
   * agrees on it without a new setting, and nothing signed for one purpose verifies for another.
   */
  deriveKey(purpose: string): Buffer {
    return createHmac('sha256', this.secret).update(`treatme:${purpose}`).digest();
  }
}

/**
 * Embedded mode has no operator to set JWT_SECRET, so one is generated once and kept beside the
 * embedded database: tokens survive a restart, and nothing secret is committed.
 */
export function resolveJwtSecret(configured: string | undefined, file: string | undefined): string {
  if (configured) return configured;
  if (!file) return randomBytes(48).toString('base64url');
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
