import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import type { Database } from '../storage/database';
import type { AccessClaims } from './access-tokens';
import type { SessionCutoffs } from './session-cutoffs';

/** How long a user seen to exist is not looked up again; deletion also sets a cutoff, which is read every time. */
const KNOWN_USER_MS = 30_000;
const MAX_KNOWN_USERS = 50_000;

/**
 * What a validly signed access token must still satisfy: its sessions were not ended after it was issued
 * (logout-all, account deletion) and its user still exists. Both are 401s, so a client signs in again
 * instead of meeting foreign-key errors deeper down.
 */
export class CredentialCheck {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly db: Pick<Database, 'prisma'>,
    readonly cutoffs: SessionCutoffs,
  ) {}

  async check(claims: AccessClaims): Promise<void> {
    const cutoff = await this.cutoffs.get(claims.userId);
    if (cutoff !== null && claims.issuedAt <= cutoff) throw new AppError(ErrorCode.UNAUTHENTICATED, 'Session ended; sign in again');
    const seen = this.known.get(claims.userId);
    const now = Date.now();
    if (seen !== undefined && seen > now) return;
    const user = await this.db.prisma.user.findUnique({ where: { id: claims.userId }, select: { id: true, deletedAt: true } });
    if (!user || user.deletedAt !== null) {
      this.known.delete(claims.userId);
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Account no longer exists');
    }
    if (this.known.size >= MAX_KNOWN_USERS) this.known.clear();
    this.known.set(claims.userId, now + KNOWN_USER_MS);
  }

  /** This node stops trusting its memory of the user at once (other nodes rely on the cutoff). */
  forget(userId: string): void {
    this.known.delete(userId);
  }
}
