import { inject } from 'vitest';
import pino from 'pino';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../protocol/events';
import { buildServer, type RunningServer } from '../../server/build-server';
import { loadConfig, type Config } from '../../server/config/config';
import { isolationIds } from './isolation';

export type TestClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

export interface TestServer {
  server: RunningServer;
  config: Config;
  url: string;
  port: number;
  ids: ReturnType<typeof isolationIds>;
  /** A socket.io client; pass a token for a signed-in user, none for an anonymous viewer. */
  connect(token?: string, opts?: { autoConnect?: boolean }): Promise<TestClient>;
  close(): Promise<void>;
}

export type StoreChoice = 'real' | 'embedded';

/**
 * A full server on port 0 against the real stores (PostgreSQL schema, Redis key prefix and DynamoDB
 * table prefix of its own), quiet logs, no signal handlers. Several may share one `ids` to act as the
 * nodes of one cluster.
 */
export async function startTestServer(
  overrides: Record<string, string> = {},
  opts: { label?: string; ids?: ReturnType<typeof isolationIds>; stores?: StoreChoice; now?: () => number } = {},
): Promise<TestServer> {
  const ids = opts.ids ?? isolationIds(opts.label ?? 'server');
  const base =
    opts.stores === 'embedded'
      ? { PGLITE_IN_MEMORY: 'true', DEV_MODE: 'true' }
      : {
          DATABASE_URL: inject('postgresUrl'),
          DATABASE_SCHEMA: ids.schema,
          REDIS_URL: inject('redisUrl'),
          REDIS_KEY_PREFIX: ids.redisPrefix,
          DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
          AWS_REGION: 'us-east-1',
          DYNAMODB_TABLE_PREFIX: ids.tablePrefix,
          DYNAMODB_CREATE_TABLES: 'true',
          JWT_SECRET: `test-secret-${ids.id}-0123456789abcdef0123456789`,
          DEV_MODE: 'true',
        };
  const config = loadConfig({ LOG_LEVEL: 'silent', SEED_DEMO_DATA: 'true', PORT: '0', HOST: '127.0.0.1', ...base, ...overrides });
  const server = await buildServer(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    migrate: true,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const clients: TestClient[] = [];
  return {
    server,
    config,
    url,
    port,
    ids,
    connect: async (token, copts = {}) => {
      const socket: TestClient = ioClient(url, {
        auth: token ? { token } : {},
        transports: ['websocket'],
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 200,
        forceNew: true,
        autoConnect: copts.autoConnect ?? true,
      });
      clients.push(socket);
      if (copts.autoConnect === false) return socket;
      await new Promise<void>((res, rej) => {
        socket.once('connect', () => res());
        socket.once('connect_error', (err) => rej(err));
      });
      return socket;
    },
    close: async () => {
      for (const c of clients) c.disconnect();
      await server.shutdown('test teardown');
    },
  };
}
