import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Config } from '../config/config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { TypedServer, TypedSocket } from './typed-server';

/** A feature attaches its event handlers to each new socket. */
export type SocketFeature = (socket: TypedSocket) => void;

export function createSocketServer(httpServer: HttpServer, config: Config): TypedServer {
  const io: TypedServer = new Server(httpServer, {
    // A phone never needs a larger frame; bigger ones are dropped by the engine before parsing.
    maxHttpBufferSize: config.SOCKET_MAX_MESSAGE_BYTES,
    cors: { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: true },
    // Browsers send Origin; native apps do not. Refuse a browser origin that is not allowed.
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      if (!origin || config.corsOrigins === '*') return cb(null, true);
      cb(null, config.corsOrigins.includes(origin));
    },
    // A phone switching networks resumes its rooms and missed packets without a new check-in.
    connectionStateRecovery: { maxDisconnectionDuration: config.PRESENCE_GRACE_SECONDS * 1000, skipMiddlewares: false },
    pingInterval: 25_000,
    pingTimeout: 20_000,
  });
  // socket.io keeps each session's first HTTP request by default; nothing here reads it after the
  // handshake (socket.handshake holds what we need), and at tens of thousands of sockets it is the
  // largest share of per-socket memory (socket.io's "Memory usage" guide).
  io.engine.on('connection', (rawSocket: { request: unknown }) => {
    rawSocket.request = null;
  });
  return io;
}

export function trackConnections(io: TypedServer, logger: Logger, metrics: Metrics, features: SocketFeature[]): void {
  io.on('connection', (socket) => {
    metrics.socketsConnected.inc();
    logger.info({ socket: socket.id, user: socket.data.userId, recovered: socket.recovered, ip: socket.handshake.address }, 'socket connected');
    socket.on('disconnect', (reason) => {
      metrics.socketsConnected.dec();
      logger.info({ socket: socket.id, user: socket.data.userId, reason }, 'socket disconnected');
    });
    for (const feature of features) feature(socket);
  });
}
