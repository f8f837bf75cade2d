import { Rooms } from '../../protocol/events';
import type { AppContext } from '../context';
import { NOTICE_BEFORE_CLOSE_MS } from '../realtime/token-expiry';

/**
 * Ends every credential a user holds right now, on every node: access tokens issued until now are
 * refused (the shared cutoff), and live sockets hear `auth:expired` and are closed (through the adapter,
 * so other nodes close theirs). Refresh tokens are revoked by the caller, in its own audit trail.
 */
export async function endLiveSessions(
  ctx: Pick<AppContext, 'credentials' | 'io'>,
  userId: string,
  opts: { forever?: boolean } = {},
): Promise<void> {
  // `forever` (account deletion): refuse every token of the user, also one issued after this instant (a
  // refresh racing the deletion). Other nodes may still remember the user as existing for a while
  // (CredentialCheck's KNOWN_USER_MS); the cutoff outlives that memory, and then the deleted row refuses.
  await ctx.credentials.cutoffs.cut(userId, opts.forever ? Number.MAX_SAFE_INTEGER : Date.now());
  ctx.credentials.forget(userId);
  ctx.io.to(Rooms.user(userId)).emit('auth:expired', { reason: 'revoked' });
  // After the notice (see NOTICE_BEFORE_CLOSE_MS); REST and new handshakes are refused at once by the cutoff.
  setTimeout(() => ctx.io.in(Rooms.user(userId)).disconnectSockets(true), NOTICE_BEFORE_CLOSE_MS).unref();
}
