import { ErrorCode } from '../../../protocol/errors';
import type { OAuthProvider, ProvidersResponse } from '../../../protocol/http/auth';
import { audit } from '../../audit/audit';
import type { AppContext } from '../../context';
import { AppError } from '../../errors';
import { providerColumn } from '../user-view';
import type { SignInProviders } from './providers';

type Source = { ip: string | null; userAgent: string | null };
const ALL = Object.keys(providerColumn) as OAuthProvider[];

export async function listProviders(ctx: AppContext, providers: SignInProviders, userId: string): Promise<ProvidersResponse> {
  const user = await ctx.db.prisma.user.findUnique({ where: { id: userId } });
  if (!user) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
  return {
    linked: ALL.filter((p) => user[providerColumn[p]] !== null),
    enabled: providers.enabled(),
    codes: { email: user.email !== null, phone: user.phone !== null },
  };
}

/**
 * Unlinks a provider unless it is the account's last way in. The check and the update are one
 * conditional UPDATE, so two unlinks racing on an account with two providers cannot both win.
 * An e-mail or phone counts as a way in: a code can always be sent to it.
 */
export async function unlinkProvider(
  ctx: AppContext,
  providers: SignInProviders,
  userId: string,
  provider: OAuthProvider,
  source: Source,
): Promise<ProvidersResponse> {
  const prisma = ctx.db.prisma;
  const column = providerColumn[provider];
  const otherWays = [
    { email: { not: null } },
    { phone: { not: null } },
    ...ALL.filter((p) => p !== provider).map((p) => ({ [providerColumn[p]]: { not: null } })),
  ];
  const { count } = await prisma.user.updateMany({
    where: { id: userId, [column]: { not: null }, OR: otherWays },
    data: { [column]: null },
  });
  if (count === 0) {
    const user = await prisma.user.findUnique({ where: { id: userId } });
    if (!user) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
    if (user[column] === null) throw new AppError(ErrorCode.NOT_FOUND, `${provider} is not linked to this account`);
    throw new AppError(
      ErrorCode.CONFLICT,
      `${provider} is the only way to sign into this account; link another provider or add an e-mail first`,
      { details: { reason: 'LAST_SIGN_IN_METHOD' } },
    );
  }
  await audit(ctx, {
    userId,
    action: 'auth.provider_unlinked',
    resourceType: 'user',
    resourceId: userId,
    changes: { provider },
    ...source,
  });
  return listProviders(ctx, providers, userId);
}
