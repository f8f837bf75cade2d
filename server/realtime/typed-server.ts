import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents } from '../../protocol/events';

export interface SocketData {
  /** Null for an anonymous viewer: it may only watch counts. */
  userId: string | null;
  /** When the socket's access token expires (epoch ms; moved by `auth:refresh`): the server then closes the socket. */
  tokenExpiresAt: number | null;
  /** The expiry wheel's bucket this socket sits in (token-expiry.ts). */
  expiryBucket?: number;
  /** Map-cell rooms joined by the last `map:watch`, left when the view moves. */
  mapCells?: string[];
  /** The tail of this socket's presence operations and how many are queued (presence-handlers.ts `inOrder`). */
  presenceOps?: Promise<void>;
  presencePending?: number;
  /** `lastSeenAt` of the stay as this socket last wrote it: its close may cut only a stay nobody wrote since. */
  presenceSeenAt?: number;
  /** Closed because this node was declared dead (node-liveness-feature.ts): its close cuts no grace. */
  handedBack?: boolean;
}

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type TypedSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
