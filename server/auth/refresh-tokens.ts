import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import { AppError } from '../errors';

/**
 * Refresh tokens are random 256-bit strings, stored only as SHA-256 hashes (a database leak yields no
 * usable token; they are too long to brute-force, so no salt is needed). Each refresh rotates: the
 * presented token is marked replaced and a new one of the same family is issued. Presenting a replaced
 * token again means two parties hold it — one of them stole it — so the whole family is revoked and
 * both must sign in again.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

type Ctx = Pick<AppContext, 'db' | 'now'>;
interface Source {
  ip: string | null;
  userAgent: string | null;
}

export async function issueRefreshToken(
  ctx: Ctx,
  ttlDays: number,
  userId: string,
  familyId?: string,
): Promise<{ token: string; id: string }> {
  const token = randomBytes(32).toString('base64url');
  const row = await ctx.db.prisma.refreshToken.create({
    data: {
      userId,
      familyId: familyId ?? randomBytes(16).toString('hex'),
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(ctx.now() + ttlDays * 86_400_000),
    },
  });
  return { token, id: row.id };
}

const invalid = () => new AppError(ErrorCode.UNAUTHENTICATED, 'Invalid refresh token');

/** Rotates `token`; returns the user and the new refresh token. */
export async function rotateRefreshToken(ctx: Ctx, token: string, source: Source): Promise<{ userId: string; refreshToken: string }> {
  const prisma = ctx.db.prisma;
  const row = await prisma.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(token) } });
  if (!row) throw invalid();
  if (row.replacedById !== null) {
    await revokeFamily(ctx, row.familyId, row.userId, source, AuditAction.TokenReuseDetected);
    throw new AppError(ErrorCode.UNAUTHENTICATED, 'Refresh token reused; session revoked');
  }
  if (row.revokedAt !== null || row.expiresAt.getTime() <= ctx.now()) throw invalid();

  const next = randomBytes(32).toString('base64url');
  // The conditional update is the lock: of two concurrent refreshes with one token, exactly one
  // matches `replacedById: null`; the other sees a replaced token and is treated as reuse.
  // The new token keeps the family's first expiry: rotating does not extend a session forever.
  await prisma
    .$transaction(async (tx) => {
      const created = await tx.refreshToken.create({
        data: { userId: row.userId, familyId: row.familyId, tokenHash: hashRefreshToken(next), expiresAt: row.expiresAt },
      });
      const claimed = await tx.refreshToken.updateMany({
        where: { id: row.id, replacedById: null, revokedAt: null },
        data: { replacedById: created.id, revokedAt: new Date(ctx.now()) },
      });
      if (claimed.count !== 1) throw new RotationLost();
    })
    .catch(async (err: unknown) => {
      if (!(err instanceof RotationLost)) throw err;
      await revokeFamily(ctx, row.familyId, row.userId, source, AuditAction.TokenReuseDetected);
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Refresh token reused; session revoked');
    });
  return { userId: row.userId, refreshToken: next };
}

class RotationLost extends Error {}

export async function revokeFamily(
  ctx: Ctx,
  familyId: string,
  userId: string,
  source: Source,
  action: string = AuditAction.TokenRevoked,
): Promise<number> {
  const { count } = await ctx.db.prisma.refreshToken.updateMany({
    where: { familyId, revokedAt: null },
    data: { revokedAt: new Date(ctx.now()) },
  });
  await audit(ctx, { userId, action, resourceType: 'refresh_token_family', resourceId: familyId, changes: { revoked: count }, ...source });
  return count;
}

/** Logout: revokes the session `token` belongs to. Unknown tokens are ignored, so logout is idempotent. */
export async function revokeByToken(ctx: Ctx, token: string, source: Source): Promise<void> {
  const row = await ctx.db.prisma.refreshToken.findUnique({ where: { tokenHash: hashRefreshToken(token) } });
  if (row) await revokeFamily(ctx, row.familyId, row.userId, source);
}

/** Logout everywhere. */
export async function revokeAllForUser(ctx: Ctx, userId: string, source: Source): Promise<number> {
  const { count } = await ctx.db.prisma.refreshToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date(ctx.now()) },
  });
  await audit(ctx, {
    userId,
    action: AuditAction.TokenRevoked,
    resourceType: 'user',
    resourceId: userId,
    changes: { revoked: count, scope: 'all' },
    ...source,
  });
  return count;
}
