import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';

/**
 * Group invites are signed tokens rather than rows: an invite names the group, the inviter and the one
 * user allowed to use it, and expires on its own. Signed with a key derived for this purpose only, so
 * an invite can never pass as an access token. Revocation comes from checks at join time: the inviter
 * must still be a member, and blocks are re-checked.
 */
const INVITE_TTL_SECONDS = 7 * 86_400;
const Claims = z.object({ typ: z.literal('group-invite'), gid: z.string(), inv: z.string(), by: z.string(), exp: z.number() });
export type InviteClaims = z.infer<typeof Claims>;

/** Signs and checks group invites; built once by the composition root with its derived key. */
export class GroupInvites {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number,
  ) {}

  sign(groupId: string, inviteeId: string, inviterId: string): { code: string; expiresAt: Date } {
    const nowSeconds = Math.floor(this.now() / 1000);
    const code = jwt.sign(
      { typ: 'group-invite', gid: groupId, inv: inviteeId, by: inviterId, iat: nowSeconds, exp: nowSeconds + INVITE_TTL_SECONDS },
      this.key,
      {
        algorithm: 'HS256',
      },
    );
    return { code, expiresAt: new Date((nowSeconds + INVITE_TTL_SECONDS) * 1000) };
  }

  verify(code: string): InviteClaims {
    let decoded: unknown;
    try {
      decoded = jwt.verify(code, this.key, { algorithms: ['HS256'], clockTimestamp: Math.floor(this.now() / 1000) });
    } catch (err) {
      const expired = err instanceof jwt.TokenExpiredError;
      throw new AppError(ErrorCode.FORBIDDEN, expired ? 'Invite expired' : 'Invalid invite code', { cause: err });
    }
    const claims = Claims.safeParse(decoded);
    if (!claims.success) throw new AppError(ErrorCode.FORBIDDEN, 'Invalid invite code');
    return claims.data;
  }
}
