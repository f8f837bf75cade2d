import { ErrorCode } from '../../../protocol/errors';
import { AuditAction, audit } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { Prisma } from '../../storage/prisma-types';
import { nameFromEmail, providerColumn } from '../user-view';
import type { VerifiedIdentity } from './id-token-verifier';

/**
 * The account a verified identity signs into: the one already linked to that provider id; else the
 * account with the same provider-verified email, which gets the provider id linked; else a new one.
 * An unverified email never links, or anyone could claim an account by typing its address at a provider.
 */
export async function userForIdentity(
  ctx: AppContext,
  id: VerifiedIdentity,
  displayName: string | undefined,
  source: { ip: string | null; userAgent: string | null },
) {
  const prisma = ctx.db.prisma;
  const column = providerColumn[id.provider];
  const linked = await prisma.user.findFirst({ where: { [column]: id.subject } });
  if (linked) return { user: linked, created: false };

  if (id.email && id.emailVerified) {
    const byEmail = await prisma.user.findUnique({ where: { email: id.email } });
    if (byEmail) {
      if (byEmail[column] !== null) {
        throw new AppError(ErrorCode.CONFLICT, `This email's account is linked to another ${id.provider} account`);
      }
      const user = await prisma.user.update({ where: { id: byEmail.id }, data: { [column]: id.subject, emailVerified: true } });
      await audit(ctx, {
        userId: user.id,
        action: AuditAction.ProviderLinked,
        resourceType: 'user',
        resourceId: user.id,
        changes: { provider: id.provider, via: 'verified_email' },
        ...source,
      });
      return { user, created: false };
    }
  }
  const user = await prisma.user.create({
    data: {
      [column]: id.subject,
      // An unverified email is not stored as the account email: it is unique, and would block its real owner.
      ...(id.email && id.emailVerified ? { email: id.email, emailVerified: true } : {}),
      displayName: displayName ?? id.name ?? (id.email ? nameFromEmail(id.email) : 'Guest'),
      profileImageUrl: id.picture,
    },
  });
  return { user, created: true };
}

/** Links a provider to the signed-in account; refused if that provider id already belongs to someone else. */
export async function linkIdentity(
  ctx: AppContext,
  userId: string,
  id: VerifiedIdentity,
  source: { ip: string | null; userAgent: string | null },
) {
  const prisma = ctx.db.prisma;
  const column = providerColumn[id.provider];
  const owner = await prisma.user.findFirst({ where: { [column]: id.subject }, select: { id: true } });
  if (owner && owner.id !== userId) throw new AppError(ErrorCode.CONFLICT, `This ${id.provider} account is linked to another user`);
  const me = await prisma.user.findUnique({ where: { id: userId } });
  if (!me) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
  if (me[column] !== null && me[column] !== id.subject)
    throw new AppError(ErrorCode.CONFLICT, `Another ${id.provider} account is already linked`);
  let user;
  try {
    user = await prisma.user.update({ where: { id: userId }, data: { [column]: id.subject } });
  } catch (err) {
    // Someone linked the same provider id between our check and this write: the unique index decides.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
      throw new AppError(ErrorCode.CONFLICT, `This ${id.provider} account is linked to another user`, { cause: err });
    throw err;
  }
  await audit(ctx, {
    userId,
    action: AuditAction.ProviderLinked,
    resourceType: 'user',
    resourceId: userId,
    changes: { provider: id.provider, via: 'signed_in' },
    ...source,
  });
  return user;
}
