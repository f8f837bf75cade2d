import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { TrustProxy } from '../http/client-address';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { ConnectionsPerAddress } from './connection-limits';
import type { TypedServer, TypedSocket } from './typed-server';
import { releaseUpgradeRequest } from './upgrade-request';

/** Handles one client event; `args` are what the client sent, its ack callback last. */
export type SocketEventHandler = (socket: TypedSocket, ...args: unknown[]) => void;

/**
 * What a feature does with sockets. Handlers are shared by every socket (they take it as an argument)
 * rather than closures made per connection: at tens of thousands of sockets, per-socket listeners
 * are a measurable share of the heap (bench/sockets-bench.ts).
 */
export interface SocketFeature {
  events?: Record<string, SocketEventHandler>;
  connected?(socket: TypedSocket): void;
  disconnected?(socket: TypedSocket, reason: string): void;
}

/** Exported so the sockets benchmark's bare socket.io baseline runs with exactly these options. */
/** The socket.io server's limits and CORS, from SOCKET_*, CORS_ORIGINS, TRUST_PROXY and PRESENCE_GRACE_SECONDS. */
export interface SocketServerSettings {
  maxMessageBytes: number;
  corsOrigins: '*' | string[];
  trustProxy: TrustProxy;
  /** SOCKET_CONNECTIONS_PER_IP; 0 is no limit. */
  connectionsPerIp: number;
  /** How long a dropped phone's session can be resumed: the presence grace period. */
  recoveryMs: number;
}

export function socketIoOptions(
  settings: SocketServerSettings,
  admit: (req: Parameters<NonNullable<ServerOptions['allowRequest']>>[0]) => boolean = () => true,
): Partial<ServerOptions> {
  return {
    // A phone never needs a larger frame; bigger ones are dropped by the engine before parsing.
    maxHttpBufferSize: settings.maxMessageBytes,
    // As for REST (cors-policy.ts): credentials only for listed origins, never for `*`.
    cors: settings.corsOrigins === '*' ? { origin: '*', credentials: false } : { origin: settings.corsOrigins, credentials: true },
    // Browsers send Origin; native apps do not. Refuse a browser origin that is not allowed.
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      if (origin && settings.corsOrigins !== '*' && !settings.corsOrigins.includes(origin)) return cb('origin not allowed', false);
      if (!admit(req)) return cb('too many connections from this address', false);
      cb(null, true);
    },
    // Embedded mode (in-memory adapter) only: a phone switching networks resumes its rooms and missed
    // packets. The Redis adapter the cluster uses cannot restore sessions: there a phone reconnects as
    // a new socket, the server resumes its stay and venue room on connect (presence-handlers.ts), and
    // the phone re-sends its watches.
    connectionStateRecovery: { maxDisconnectionDuration: settings.recoveryMs, skipMiddlewares: false },
    pingInterval: 25_000,
    pingTimeout: 20_000,
  };
}

export function createSocketServer(httpServer: HttpServer, settings: SocketServerSettings): TypedServer {
  const perAddress = new ConnectionsPerAddress(settings.trustProxy, settings.connectionsPerIp);
  const io: TypedServer = new Server(
    httpServer,
    socketIoOptions(settings, (req) => perAddress.admit(req)),
  );
  // socket.io keeps each session's first HTTP request by default; nothing here reads it after the
  // handshake (socket.handshake holds what we need), and at tens of thousands of sockets it is the
  // largest share of per-socket memory (socket.io's "Memory usage" guide). engine.io also keeps it
  // from the upgrade's TCP socket: see upgrade-request.ts.
  io.engine.on(
    'connection',
    (rawSocket: { request: unknown; transport: unknown; once(event: 'upgrade' | 'close', fn: (transport: unknown) => void): void }) => {
      perAddress.track(rawSocket.request as Parameters<ConnectionsPerAddress['track']>[0], (fn) => rawSocket.once('close', fn));
      rawSocket.request = null;
      if (releaseUpgradeRequest(rawSocket.transport) === 0) rawSocket.once('upgrade', releaseUpgradeRequest);
    },
  );
  return io;
}

export function trackConnections(io: TypedServer, logger: Logger, metrics: Metrics, features: SocketFeature[]): void {
  const handlers = new Map<unknown, SocketEventHandler>();
  for (const f of features) {
    for (const [event, handler] of Object.entries(f.events ?? {})) {
      if (handlers.has(event)) throw new Error(`two socket features handle ${event}`);
      handlers.set(event, handler);
    }
  }
  // One listener per socket for every client event (onAny) instead of one per event: a Map looks the
  // handler up, so a hostile event name such as "constructor" finds nothing.
  function dispatch(this: TypedSocket, event: unknown, ...args: unknown[]): void {
    handlers.get(event)?.(this, ...args);
  }
  function onDisconnect(this: TypedSocket, reason: string): void {
    metrics.socketsConnected.dec();
    logger.info({ socket: this.id, user: this.data.userId, reason }, 'socket disconnected');
    for (const f of features) f.disconnected?.(this, reason);
  }
  io.on('connection', (socket) => {
    metrics.socketsConnected.inc();
    logger.info(
      { socket: socket.id, user: socket.data.userId, recovered: socket.recovered, ip: socket.handshake.address },
      'socket connected',
    );
    socket.onAny(dispatch);
    socket.on('disconnect', onDisconnect);
    for (const f of features) f.connected?.(socket);
  });
}
