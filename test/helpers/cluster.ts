import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { AccessTokens } from '../../server/auth/access-tokens';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { leaseTimings, type PresenceStore } from '../../server/presence/presence-store';
import { loadConfig } from '../../server/config/config';
import { openDatabase, type Database } from '../../server/storage/database';
import { seedDemoData } from '../../server/storage/demo-seed';
import { createDynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables } from '../../server/storage/dynamo-tables';
import { freePort } from '../../scripts/lib/dynamo-local';
import { isolationIds } from './isolation';
import type { TestClient } from './test-server';

export interface ClusterNode {
  id: string;
  url: string;
  proc: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export interface Cluster {
  nodes: ClusterNode[];
  db: Database;
  tokens: AccessTokens;
  /** The cluster's presence store, read directly: what every node counts from. */
  store: PresenceStore;
  env: Record<string, string>;
  connect(node: ClusterNode, token?: string): Promise<TestClient>;
  startNode(id: string): Promise<ClusterNode>;
  close(): Promise<void>;
}

async function waitHealthy(url: string, node: ClusterNode, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.proc.exitCode !== null) throw new Error(`node ${node.id} exited ${node.proc.exitCode}:\n${node.output.join('')}`);
    try {
      const res = await fetch(`${url}/ready`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node ${node.id} not ready within ${timeoutMs} ms:\n${node.output.join('')}`);
}

/**
 * Real server processes (`tsx server/main.ts`) sharing one PostgreSQL schema, Redis key prefix and
 * DynamoDB table prefix: the production shape. The schema, tables and demo data are prepared once here,
 * as an operator's deploy step would, so the nodes start as they would in production.
 */
/**
 * Node-death settings: a heartbeat timeout and grace far longer than a test, so only the node lease
 * (10 s) can end a dead node's stays in time (the issue: 15 minutes with the defaults).
 */
export const NODE_DEATH_ENV: Record<string, string> = {
  PRESENCE_TIMEOUT_SECONDS: '120',
  NODE_LEASE_SECONDS: '10',
  SWEEP_INTERVAL_MS: '500',
  COUNT_COALESCE_MS: '50',
  PRESENCE_GRACE_SECONDS: '60',
};

export async function startCluster(n: number, overrides: Record<string, string> = {}, label = 'cluster'): Promise<Cluster> {
  const ids = isolationIds(label);
  const env: Record<string, string> = {
    TREATME_MODE: 'cluster',
    DATABASE_URL: inject('postgresUrl'),
    DATABASE_SCHEMA: ids.schema,
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: ids.redisPrefix,
    DYNAMODB_ENDPOINT: inject('dynamoEndpoint'),
    AWS_REGION: 'us-east-1',
    DYNAMODB_TABLE_PREFIX: ids.tablePrefix,
    JWT_SECRET: `cluster-secret-${ids.id}-0123456789abcdef0123`,
    DEV_MODE: 'true',
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    ...overrides,
  };
  const config = loadConfig(env);
  const db = await openDatabase(config, undefined, { migrate: true });
  await seedDemoData(db.prisma, { centerLat: config.CITY_CENTER_LAT, centerLng: config.CITY_CENTER_LNG });
  const dynamo = createDynamoClients({ endpoint: config.dynamo!.endpoint, region: 'us-east-1' });
  await ensureTables(dynamo.client, ids.tablePrefix);
  const tokens = new AccessTokens(env.JWT_SECRET!, 3600);

  const nodes: ClusterNode[] = [];
  const clients: TestClient[] = [];
  const startNode = async (id: string): Promise<ClusterNode> => {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, ...env, PORT: String(port), NODE_ID: id },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    const node: ClusterNode = { id, url: `http://127.0.0.1:${port}`, proc, output, exited };
    nodes.push(node);
    await waitHealthy(node.url, node);
    return node;
  };
  await Promise.all(Array.from({ length: n }, (_, i) => startNode(`node${String.fromCharCode(65 + i)}`)));
  nodes.sort((a, b) => a.id.localeCompare(b.id));

  return {
    nodes,
    db,
    tokens,
    store: new DynamoPresenceStore({
      doc: dynamo.doc,
      tablePrefix: ids.tablePrefix,
      counterShards: config.DYNAMODB_COUNTER_SHARDS,
      ...leaseTimings(config),
    }),
    env,
    startNode,
    connect: async (node, token) => {
      const socket: TestClient = ioClient(node.url, {
        auth: token ? { token } : {},
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
      });
      clients.push(socket);
      await new Promise<void>((res, rej) => {
        socket.once('connect', () => res());
        socket.once('connect_error', rej);
      });
      return socket;
    },
    close: async () => {
      for (const c of clients) c.disconnect();
      await Promise.all(
        nodes.map(async (node) => {
          if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGTERM');
          await node.exited;
        }),
      );
      await db.prisma.$executeRawUnsafe(`DROP SCHEMA IF EXISTS "${ids.schema}" CASCADE`);
      await db.close();
      await deleteTables(dynamo.client, ids.tablePrefix).catch(() => undefined);
      dynamo.client.destroy();
    },
  };
}
