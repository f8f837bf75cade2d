import { z } from 'zod';
import { ErrorCode } from '../../protocol/errors';
import type { AccessTokens } from '../auth/access-tokens';
import { AppError, toAppError } from '../errors';
import type { TypedSocket } from './typed-server';

const HandshakeAuth = z.object({ token: z.string().min(1).max(4096).optional() }).passthrough();

/**
 * Runs on every connection, including a recovered one (socket.io re-runs middlewares on recovery),
 * so a token that expired or was forged while the phone was offline is refused there too.
 * No token = anonymous viewer; a bad token is an error, not a silent downgrade to anonymous. A token
 * whose sessions were ended or whose user is gone is refused like a forged one.
 */
export function handshakeAuth(tokens: AccessTokens) {
  return async (socket: TypedSocket, next: (err?: Error) => void) => {
    try {
      const auth = HandshakeAuth.safeParse(socket.handshake.auth ?? {});
      if (!auth.success) throw new AppError(ErrorCode.VALIDATION, 'Malformed handshake auth');
      if (!auth.data.token) {
        socket.data.userId = null;
        socket.data.tokenExpiresAt = null;
        return next();
      }
      const claims = await tokens.authenticate(auth.data.token);
      socket.data.userId = claims.userId;
      socket.data.tokenExpiresAt = claims.expiresAt;
      next();
    } catch (err) {
      const appErr = toAppError(err);
      const out = new Error(appErr.message) as Error & { data: unknown };
      out.data = appErr.toWire();
      next(out);
    }
  };
}
