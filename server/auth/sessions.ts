import type { SessionResponse } from '../../protocol/http/auth';
import { AuditAction, audit } from '../audit/audit';
import type { AppContext } from '../context';
import { issueRefreshToken } from './refresh-tokens';
import { toUserView } from './user-view';

/** How long what a sign-in hands out lives. */
export interface SessionSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
}

type UserRow = Parameters<typeof toUserView>[0];

/** How a user proved who they are; recorded in the sign-in audit row. */
export type SignInMethod = 'dev' | 'email_code' | 'phone_code' | `oauth:${string}`;

/** A new session (refresh family) for a user who just proved who they are. */
export async function startSession(
  ctx: AppContext,
  settings: SessionSettings,
  user: UserRow,
  method: SignInMethod,
  source: { ip: string | null; userAgent: string | null },
  extra: Record<string, unknown> = {},
): Promise<SessionResponse> {
  const refresh = await issueRefreshToken(ctx, settings.refreshTokenTtlDays, user.id);
  await audit(ctx, {
    userId: user.id,
    action: AuditAction.SignIn,
    resourceType: 'user',
    resourceId: user.id,
    changes: { method, ...extra },
    ...source,
  });
  return {
    accessToken: ctx.tokens.sign(user.id),
    refreshToken: refresh.token,
    expiresIn: settings.accessTokenTtlSeconds,
    user: toUserView(user),
  };
}
