/**
 * The sockets benchmark's baseline, run as its own process (start it with --inspect): socket.io with
 * exactly TreatMe's Server options and nothing else — no auth middleware, no handlers, no rooms, no
 * HTTP app. What TreatMe holds per socket beyond this is what TreatMe's own code adds.
 *
 * Reads its config from the environment like the server does; prints `listening <port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { loadConfig } from '../../server/config/config';
import { socketIoOptions } from '../../server/realtime/socket-server';
import { socketServerSettings } from '../../server/settings';

const config = loadConfig(process.env);
const httpServer = createServer();
const io = new Server(httpServer, socketIoOptions(socketServerSettings(config)));
httpServer.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(httpServer.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  io.close();
  process.exit(0);
});
