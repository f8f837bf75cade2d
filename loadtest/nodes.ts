import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/config/config';
import { openDatabase, type Database } from '../server/storage/database';
import { seedDemoData } from '../server/storage/demo-seed';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { deleteTables, ensureTables } from '../server/storage/dynamo-tables';
import { freePort, startDynamoLocal, type DynamoLocal } from '../scripts/lib/dynamo-local';
import type { PrismaClient } from '../server/storage/prisma-types';
import { seedVenues } from './city';

export interface NodeProcess {
  id: string;
  url: string;
  proc: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

export interface StartNodesOptions {
  nodes: number;
  /** `embedded`: one node on PGlite and in-process stores. `real`: PostgreSQL, Redis and DynamoDB (Local unless given). */
  stores: 'embedded' | 'real';
  /** Venues the city must have (demo venues plus generated ones). */
  venues: number;
  center: { lat: number; lng: number };
  /** Extra environment for every node (presence timings, COUNT_COALESCE_MS, …). */
  env?: Record<string, string>;
  postgresUrl?: string;
  redisUrl?: string;
  dynamoEndpoint?: string;
  log?: (line: string) => void;
  /** Folder the nodes run `server/main.ts` from (a benchmark's baseline checkout); default this one. */
  cwd?: string;
  /** Extra node flags for every server process (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Runs against the prepared database before any node starts (PGlite allows one owner at a time). */
  prepare?: (prisma: PrismaClient, jwtSecret: string) => Promise<void>;
}

export interface StartedNodes {
  nodes: NodeProcess[];
  urls: string[];
  jwtSecret: string;
  /** Live handle on the cluster's PostgreSQL (real stores only: PGlite has a single owner, the node). */
  db: Database | undefined;
  env: Record<string, string>;
  /** SIGKILL node i (chaos): no drain, no lease hand-over, as an OOM kill or a lost machine. */
  kill(i: number): Promise<void>;
  /** Starts node i again on its port under the same NODE_ID (a new incarnation), ready when this resolves. */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

/** Every key this run's nodes wrote (simulated payments, caches, locks) goes with the run. */
async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function waitReady(node: NodeProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (node.proc.exitCode !== null)
      throw new Error(`node ${node.id} exited ${node.proc.exitCode}:\n${node.output.join('').slice(-4_000)}`);
    try {
      if ((await fetch(`${node.url}/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node ${node.id} not ready within ${timeoutMs} ms:\n${node.output.join('').slice(-4_000)}`);
}

function spawnNode(id: string, port: number, env: Record<string, string>, cwd?: string, nodeArgs: string[] = []): NodeProcess {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, ...env, PORT: String(port), NODE_ID: id },
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  // Keep only the tail: a node logging warnings for minutes must not grow this process without bound.
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return { id, url: `http://127.0.0.1:${port}`, proc, output, exited };
}

async function stopNode(node: NodeProcess): Promise<void> {
  if (node.proc.exitCode === null && node.proc.signalCode === null) {
    node.proc.kill('SIGTERM');
    const killer = setTimeout(() => node.proc.kill('SIGKILL'), 15_000);
    await node.exited;
    clearTimeout(killer);
  }
}

/**
 * Starts server processes the way an operator deploys them: the database is migrated and seeded first
 * (demo venues plus enough generated ones), then N `tsx server/main.ts` processes share it. Real stores
 * get their own PostgreSQL schema, Redis key prefix and DynamoDB table prefix, dropped on close.
 */
export async function startNodes(o: StartNodesOptions): Promise<StartedNodes> {
  if (o.stores === 'embedded' && o.nodes !== 1) {
    throw new Error('embedded mode is a single node (in-memory adapter and presence); use --stores real for several nodes');
  }
  const log = o.log ?? (() => undefined);
  const id = randomBytes(4).toString('hex');
  const jwtSecret = `loadtest-${id}-${randomBytes(16).toString('hex')}`;
  const base: Record<string, string> = {
    JWT_SECRET: jwtSecret,
    DEV_MODE: 'true',
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: process.env.LOADTEST_LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
    HOST: '127.0.0.1',
    CITY_CENTER_LAT: String(o.center.lat),
    CITY_CENTER_LNG: String(o.center.lng),
    // Thousands of simulated phones share one loopback address and a handful of accounts write a lot.
    RATE_LIMIT_WRITES_PER_MINUTE: '100000',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    MAX_UNANSWERED_OFFERS_PER_BUYER: '1000',
    MAX_PENDING_TREATS_PER_RECIPIENT: '1000',
    ...o.env,
  };
  let dynamoLocal: DynamoLocal | undefined;
  let db: Database | undefined;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;

  if (o.stores === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'treatme-loadtest-'));
    env = { ...base, TREATME_MODE: 'embedded', PGLITE_DATA_DIR: join(dir, 'pglite') };
    const config = loadConfig(env);
    // PGlite has one owner: prepare the data folder, close it, then hand it to the node.
    const prep = await openDatabase(config, undefined, { migrate: true });
    await seedDemoData(prep.prisma, { centerLat: o.center.lat, centerLng: o.center.lng });
    await seedVenues(prep.prisma, o.venues, o.center);
    try {
      await o.prepare?.(prep.prisma, jwtSecret);
    } finally {
      await prep.close();
    }
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const dynamoEndpoint = o.dynamoEndpoint ?? (dynamoLocal = await startDynamoLocal()).endpoint;
    const schema = `lt_${id}`;
    const tablePrefix = `lt-${id}-`;
    const redisPrefix = `lt:${id}:`;
    env = {
      ...base,
      TREATME_MODE: 'cluster',
      DATABASE_URL: o.postgresUrl ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
      DATABASE_SCHEMA: schema,
      REDIS_URL: o.redisUrl ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: redisPrefix,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      AWS_REGION: 'us-east-1',
      DYNAMODB_TABLE_PREFIX: tablePrefix,
    };
    const config = loadConfig(env);
    db = await openDatabase(config, undefined, { migrate: true });
    await seedDemoData(db.prisma, { centerLat: o.center.lat, centerLng: o.center.lng });
    await seedVenues(db.prisma, o.venues, o.center);
    await o.prepare?.(db.prisma, jwtSecret);
    const dynamo = createDynamoClients({ endpoint: dynamoEndpoint, region: 'us-east-1' });
    await ensureTables(dynamo.client, tablePrefix);
    const openDb = db;
    const redisUrl = env.REDIS_URL!;
    cleanup = async () => {
      await openDb.prisma.$executeRawUnsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await dropRedisPrefix(redisUrl, redisPrefix).catch(() => undefined);
      await openDb.close();
      await deleteTables(dynamo.client, tablePrefix).catch(() => undefined);
      dynamo.client.destroy();
      await dynamoLocal?.stop();
    };
  }

  const nodes: NodeProcess[] = [];
  // Nodes must not outlive this process when it exits without closing them (an exception, process.exit).
  const killAll = () => nodes.forEach((n) => n.proc.exitCode === null && n.proc.kill('SIGKILL'));
  process.once('exit', killAll);
  try {
    for (let i = 0; i < o.nodes; i++) nodes.push(spawnNode(`node${String.fromCharCode(65 + i)}`, await freePort(), env, o.cwd, o.nodeArgs));
    await Promise.all(nodes.map((n) => waitReady(n)));
  } catch (err) {
    await Promise.all(nodes.map(stopNode));
    await cleanup();
    throw err;
  }
  log(`started ${o.nodes} ${o.stores} node(s): ${nodes.map((n) => n.url).join(' ')}`);
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    jwtSecret,
    db,
    env,
    kill: async (i) => {
      const node = nodes[i]!;
      if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
      await node.exited;
    },
    restart: async (i) => {
      const old = nodes[i]!;
      const node = spawnNode(old.id, Number(new URL(old.url).port), env, o.cwd, o.nodeArgs);
      nodes[i] = node;
      await waitReady(node);
    },
    close: async () => {
      process.off('exit', killAll);
      await Promise.all(nodes.map(stopNode));
      await cleanup();
    },
  };
}
