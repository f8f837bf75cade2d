/**
 * GET /api/venues, cold and warm, for this code (VENUES_READS=memory) and for the previous code's
 * per-request reads (VENUES_READS=per-request, the baseline) in one invocation. One server process at a
 * time on real PostgreSQL and Redis (presence in the node's in-process store; `--dynamo` puts it in
 * DynamoDB Local), seeded once; autocannon in this process, so its CPU is told apart from the server's.
 *
 * - cold: VENUES_CACHE_SECONDS=0, so every answer runs the PostgreSQL reads;
 * - warm: the default cache, after one priming request and one count resync (steady state), with a
 *   check-in storm beside the requests: phones on sockets keep moving between two venues of the answer,
 *   a socket viewer on the node watches both, and every sampled REST answer must carry a count no older
 *   than the one the viewer was last sent; once the storm stops, REST and the viewer must agree exactly.
 *
 * PostgreSQL statements, presence-store reads and Redis commands are counted inside the server
 * (bench/lib/read-counter-preload.ts), charged to the request whose async context made them.
 *
 *   npm run bench -- venues     (= npx tsx bench/venues-bench.ts)
 *   npx tsx bench/venues-bench.ts [--duration 10] [--connections 20] [--venues 5000] [--storm 10]
 *                                 [--dynamo] [--only memory] [--profile dir]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import pino from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import { ClientEvent, type VenueCount } from '../protocol/events';
import { AccessTokens } from '../server/auth/access-tokens';
import { openDatabase } from '../server/storage/database';
import { distanceMeters } from '../server/geo/distance';
import { findNearestVenues } from '../server/venues/nearest-venues';
import { CANDIDATE_CAP, CELL_HALF_DIAGONAL_M, couldWin, roundToCell } from '../server/venues/venue-answers';
import { loadVenueDetails } from '../server/venues/venue-details';
import { ensurePostgres, ensureRedis } from '../scripts/lib/services';
import { startDynamoLocal, type DynamoLocal } from '../scripts/lib/dynamo-local';
import { topCosts } from './lib/cpu-profile';
import type { ReadCounts } from './lib/read-counter-preload';
import { writeSection } from './lib/report';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    venues: { type: 'string', default: '5000' },
    radius: { type: 'string', default: '2km' },
    storm: { type: 'string', default: '10' },
    dynamo: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string', default: 'venues' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const venueCount = Number(args.venues);
const stormPhones = Number(args.storm);
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CENTER = { lat: 40.7128, lng: -74.006 };
const FRIENDS = 20;
const STORM_STEP_MS = 150;

const id = randomUUID().slice(0, 8);
const schema = `bench_venues_${id}`;
const secret = `bench-secret-${id}-0123456789abcdefghijklmnop`;
const tokens = new AccessTokens(secret, 3600);

type Mode = 'per-request' | 'memory';
interface Venue {
  id: string;
  latitude: number;
  longitude: number;
}

interface Figures {
  mode: Mode;
  phase: 'cold' | 'warm';
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  requests: number;
  perRequest: ReadCounts['inRequests'];
  background: ReadCounts['total'];
  cpu: { server: number; client: number; postgres: number; redis: number; seconds: number };
  storm?: StormResult;
}

interface StormResult {
  checkIns: number;
  viewerMessages: number;
  samples: number;
  older: number;
  finalEqual: boolean;
  final: string;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function groupTicks(match: (comm: string) => boolean): number {
  let sum = 0;
  for (const d of os.platform() === 'linux' ? readdirSafe('/proc') : []) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return sum;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readCounts(node: Node): Promise<ReadCounts> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('read counter did not answer')), 10_000);
    const onMessage = (m: unknown) => {
      if (!m || typeof m !== 'object' || !('readCounts' in m)) return;
      clearTimeout(timer);
      node.proc.off('message', onMessage);
      res((m as { readCounts: ReadCounts }).readCounts);
    };
    node.proc.on('message', onMessage);
    node.proc.send('read-counts');
  });
}

interface Node {
  proc: ChildProcess;
  url: string;
  exited: Promise<void>;
}

async function startNode(mode: Mode, cacheSeconds: number, dynamo: DynamoLocal | undefined, profileDir?: string): Promise<Node> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: POSTGRES,
    DATABASE_SCHEMA: schema,
    REDIS_URL: REDIS,
    REDIS_KEY_PREFIX: `bench:${id}:${mode}:${cacheSeconds}:`,
    JWT_SECRET: secret,
    DEV_MODE: 'true',
    SEED_DEMO_DATA: 'false',
    VENUES_READS: mode,
    VENUES_CACHE_SECONDS: String(cacheSeconds),
    // One client IP: keep the limiters out of the figures.
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    ...(dynamo
      ? {
          DYNAMODB_ENDPOINT: dynamo.endpoint,
          AWS_REGION: 'us-east-1',
          DYNAMODB_TABLE_PREFIX: `bench-${id}-${mode}-${cacheSeconds}-`,
          DYNAMODB_CREATE_TABLES: 'true',
        }
      : {}),
  };
  const nodeArgs = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    '--import',
    'tsx',
    '--import',
    './bench/lib/read-counter-preload.ts',
    'server/main.ts',
  ];
  const proc = spawn(process.execPath, nodeArgs, { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server (${mode}) exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`server (${mode}) not ready after 60 s`);
    await sleep(200);
  }
  return { proc, url, exited };
}

async function stopNode(node: Node): Promise<void> {
  node.proc.kill('SIGTERM');
  const killed = setTimeout(() => node.proc.kill('SIGKILL'), 20_000);
  await node.exited;
  clearTimeout(killed);
}

function connect(url: string, token: string): Promise<Socket> {
  const socket = ioClient(url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((res, rej) => {
    socket.once('connect', () => res(socket));
    socket.once('connect_error', rej);
  });
}

async function emitOk<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const ack = (await socket.timeout(10_000).emitWithAck(event, payload)) as { ok: true; data: T } | { ok: false; error: { code: string } };
  if (!ack.ok) throw new Error(`${event}: ${ack.error.code}`);
  return ack.data;
}

interface Seeded {
  me: string;
  friends: string[];
  storm: string[];
  viewer: string;
  /** The venues nearest the centre, nearest first (the answer's first ones). */
  nearest: Venue[];
}

/** Venues spread over a 20 km disc, each with a menu and specials, like a dense city. */
async function seed(): Promise<Seeded> {
  const db = await openDatabase(
    { DATABASE_URL: POSTGRES, DATABASE_SCHEMA: schema, PGLITE_DATA_DIR: '', PGLITE_IN_MEMORY: true },
    pino({ level: 'silent' }),
    {
      migrate: true,
    },
  );
  const prisma = db.prisma;
  const rows = Array.from({ length: venueCount }, (_, i) => {
    // A dense centre (the first 100 within 1.9 km, so every answer holds 50 venues), the rest over 20 km.
    const r = (i < 100 ? 1_900 : 20_000) * Math.sqrt(Math.random());
    const t = Math.random() * 2 * Math.PI;
    return {
      id: `bv-${i}`,
      slug: `bench-venue-${i}`,
      name: `Bench venue ${i}`,
      description: 'A bar made up for the benchmark.',
      latitude: CENTER.lat + (r * Math.cos(t)) / 111_320,
      longitude: CENTER.lng + (r * Math.sin(t)) / (111_320 * Math.cos((CENTER.lat * Math.PI) / 180)),
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await prisma.venue.createMany({ data: rows.slice(i, i + 1000) });
  const menu = rows.flatMap((v) =>
    ['Lager', 'IPA', 'Negroni', 'Spritz', 'Old Fashioned', 'Soda'].map((name, j) => ({
      venueId: v.id,
      name,
      category: j < 2 ? 'beer' : 'cocktail',
      priceCents: 600 + j * 150,
    })),
  );
  for (let i = 0; i < menu.length; i += 5000) await prisma.menuItem.createMany({ data: menu.slice(i, i + 5000) });
  const specials = rows.flatMap((v) => [
    { venueId: v.id, title: 'Happy Hour', priceCents: 400 },
    { venueId: v.id, title: 'Friday special', daysOfWeek: [5] },
  ]);
  for (let i = 0; i < specials.length; i += 5000) await prisma.special.createMany({ data: specials.slice(i, i + 5000) });
  // Every menu and specials statement rewrote its venues' stored details (a trigger), leaving dead row
  // versions that a freshly seeded table would scan; a live table is as autovacuum leaves it.
  await prisma.$executeRawUnsafe('VACUUM (ANALYZE) "venues", "menu_items", "specials"');

  const user = async (name: string) =>
    (await prisma.user.create({ data: { email: `bench-${id}-${name}@treatme.dev`, displayName: name } })).id;
  const me = await user('Bench');
  const friends: string[] = [];
  for (let i = 0; i < FRIENDS; i++) {
    const f = await user(`Friend ${i}`);
    await prisma.friendship.create({ data: { requesterId: me, addresseeId: f, status: 'ACCEPTED', acceptedAt: new Date() } });
    friends.push(f);
  }
  const storm: string[] = [];
  for (let i = 0; i < stormPhones; i++) storm.push(await user(`Storm ${i}`));
  const viewer = await user('Viewer');
  await prisma.$executeRawUnsafe('ANALYZE');
  plans = await explainColdPath(prisma);
  await db.close();
  const nearest = rows
    .map((v) => ({ v, d: distanceMeters(CENTER.lat, CENTER.lng, v.latitude, v.longitude) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 50)
    .map((x) => x.v);
  return { me, friends, storm, viewer, nearest };
}

let plans: string[] = [];

/**
 * Runs the cold path's reads (bounding box, then the winners' details) once, capturing the statements
 * the pg adapter sends, and returns each with its EXPLAIN (ANALYZE, BUFFERS) plan on the seeded tables.
 */
async function explainColdPath(prisma: Awaited<ReturnType<typeof openDatabase>>['prisma']): Promise<string[]> {
  const sent: { text: string; values: unknown[] }[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const q = a[0] as { text?: string; values?: unknown[] } | string;
    if (typeof q === 'object' && q.text) sent.push({ text: q.text, values: q.values ?? [] });
    return query.apply(this, a);
  };
  try {
    const near = await findNearestVenues(prisma, {
      lat: roundToCell(CENTER.lat),
      lng: roundToCell(CENTER.lng),
      radiusMeters: 2_000 + CELL_HALF_DIAGONAL_M,
      limit: CANDIDATE_CAP,
    });
    await loadVenueDetails(
      prisma,
      couldWin(near, 50).map((n) => n.id),
    );
  } finally {
    proto.query = query;
  }
  const out: string[] = [];
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    for (const [i, q] of sent.entries()) {
      const plan = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, values: q.values });
      const shown = q.text.length > 600 ? `${q.text.slice(0, 600)} …` : q.text;
      out.push(`${i + 1}. \`${shown.replace(/\s+/g, ' ')}\``, '', '```', ...plan.rows.map((r) => r['QUERY PLAN']), '```', '');
    }
  } finally {
    await client.end();
  }
  return out;
}

interface VenueEntry {
  id: string;
  liveCount: number;
  countVersion: number;
}

async function nearby(url: string, token: string): Promise<VenueEntry[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /api/venues: ${res.status}`);
  return ((await res.json()) as { venues: VenueEntry[] }).venues;
}

/** Friends checked in at the first venues of the answer, on sockets that stay open for the run. */
async function checkInFriends(node: Node, s: Seeded): Promise<Socket[]> {
  const phones: Socket[] = [];
  for (let i = 0; i < s.friends.length; i++) {
    const v = s.nearest[i % s.nearest.length]!;
    const phone = await connect(node.url, tokens.sign(s.friends[i]!));
    await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
    phones.push(phone);
  }
  return phones;
}

/**
 * Phones moving between two venues of the answer while a viewer watches both; meanwhile every sampled
 * REST answer is compared with what the viewer had been sent before it was asked.
 */
async function storm(node: Node, s: Seeded, listUrl: string, meToken: string) {
  const hot = [s.nearest[1]!, s.nearest[2]!];
  const viewer = await connect(node.url, tokens.sign(s.viewer));
  const seen = new Map<string, VenueCount>();
  let viewerMessages = 0;
  const keep = (c: VenueCount) => {
    if ((seen.get(c.venueId)?.version ?? -1) < c.version) seen.set(c.venueId, c);
  };
  viewer.on('venue:count', (c: VenueCount) => {
    viewerMessages++;
    keep(c);
  });
  viewer.on('venue:snapshot', (m: { counts: VenueCount[] }) => m.counts.forEach(keep));
  const watched = await emitOk<{ counts: VenueCount[] }>(viewer, ClientEvent.VenueWatch, { venueIds: hot.map((v) => v.id) });
  watched.counts.forEach(keep);
  const phones = await Promise.all(s.storm.map((u) => connect(node.url, tokens.sign(u))));
  let running = true;
  let checkIns = 0;
  const moving = Promise.all(
    phones.map(async (phone, i) => {
      let n = i;
      while (running) {
        const v = hot[n++ % 2]!;
        await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
        checkIns++;
        // Under the per-socket event limit (20/s): a refused check-in would end the storm.
        await sleep(STORM_STEP_MS);
      }
    }),
  );
  let samples = 0;
  let older = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sent = new Map(hot.map((v) => [v.id, seen.get(v.id)?.version ?? 0]));
      const answer = await nearby(listUrl, meToken);
      for (const v of hot) {
        const entry = answer.find((e) => e.id === v.id);
        if (!entry) throw new Error(`storm venue ${v.id} not in the answer`);
        samples++;
        if (entry.countVersion < sent.get(v.id)!) older++;
      }
      await sleep(50);
    }
  })();
  return {
    async stop(): Promise<StormResult> {
      running = false;
      await moving;
      sampling = false;
      await sampler;
      // Quiet: the last change reaches the viewer within a coalescing window; REST must then say the same.
      let final = '';
      let finalEqual = false;
      const until = Date.now() + 5_000;
      while (Date.now() < until) {
        await sleep(300);
        const answer = await nearby(listUrl, meToken);
        const pairs = hot.map((v) => ({ rest: answer.find((e) => e.id === v.id)!, sent: seen.get(v.id) }));
        final = pairs
          .map((p) => `REST ${p.rest.liveCount} v${p.rest.countVersion} / viewer ${p.sent?.count} v${p.sent?.version}`)
          .join('; ');
        finalEqual = pairs.every(
          (p) => p.sent !== undefined && p.rest.liveCount === p.sent.count && p.rest.countVersion === p.sent.version,
        );
        if (finalEqual) break;
      }
      for (const p of phones) p.disconnect();
      viewer.disconnect();
      return { checkIns, viewerMessages, samples, older, finalEqual, final };
    },
  };
}

async function measure(mode: Mode, phase: 'cold' | 'warm', s: Seeded, dynamo: DynamoLocal | undefined): Promise<Figures> {
  const profileDir = args.profile && mode === 'memory' ? join(args.profile, phase) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const node = await startNode(mode, phase === 'cold' ? 0 : 300, dynamo, profileDir);
  const meToken = tokens.sign(s.me);
  const listUrl = `${node.url}/api/venues?lat=${CENTER.lat}&lng=${CENTER.lng}&radius=${args.radius}`;
  const friends = await checkInFriends(node, s);
  try {
    const probe = await nearby(listUrl, meToken);
    if (probe.length !== 50) throw new Error(`expected 50 venues per answer, got ${probe.length}`);
    // Steady state: the count table hears the venues REST asked for at the next resync (5 s by default).
    if (phase === 'warm') {
      await sleep(6_000);
      await nearby(listUrl, meToken);
    }
    const st = phase === 'warm' ? await storm(node, s, listUrl, meToken) : undefined;
    await sleep(200);
    const before = await readCounts(node);
    const cpu0 = {
      server: ticksOf(node.proc.pid!),
      client: process.cpuUsage(),
      pg: groupTicks((c) => c.startsWith('postgres')),
      redis: groupTicks((c) => c.startsWith('redis')),
    };
    const t0 = Date.now();
    const r = await autocannon({ url: listUrl, connections, duration, headers: { authorization: `Bearer ${meToken}` } });
    const seconds = (Date.now() - t0) / 1000;
    const clientCpu = process.cpuUsage(cpu0.client);
    const cpu = {
      server: (ticksOf(node.proc.pid!) - cpu0.server) / 100,
      client: (clientCpu.user + clientCpu.system) / 1e6,
      postgres: (groupTicks((c) => c.startsWith('postgres')) - cpu0.pg) / 100,
      redis: (groupTicks((c) => c.startsWith('redis')) - cpu0.redis) / 100,
      seconds,
    };
    const after = await readCounts(node);
    const stormResult = await st?.stop();
    const requests = after.requests - before.requests;
    const per = (k: keyof ReadCounts['total'], from: 'inRequests' | 'total') => (after[from][k] - before[from][k]) / Math.max(1, requests);
    const keys = ['pg', 'storeCalls', 'storeItems', 'redis'] as const;
    return {
      mode,
      phase,
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      requests,
      perRequest: Object.fromEntries(keys.map((k) => [k, per(k, 'inRequests')])) as Figures['perRequest'],
      background: Object.fromEntries(
        keys.map((k) => [k, after.total[k] - before.total[k] - (after.inRequests[k] - before.inRequests[k])]),
      ) as Figures['background'],
      cpu,
      storm: stormResult,
    };
  } finally {
    for (const f of friends) f.disconnect();
    await stopNode(node);
  }
}

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

const fmt = (n: number) => (n === 0 ? '0' : n < 0.01 ? n.toExponential(1) : n < 10 ? n.toFixed(2) : String(Math.round(n)));
const ratio = (ours: number, base: number) => (base === 0 ? '—' : `×${(ours / base).toFixed(1)}`);

async function main(): Promise<void> {
  await Promise.all([ensurePostgres(), ensureRedis()]);
  const dynamo = args.dynamo ? await startDynamoLocal() : undefined;
  const results: Figures[] = [];
  const modes: Mode[] = args.only ? [args.only as Mode] : ['per-request', 'memory'];
  try {
    const s = await seed();
    for (const phase of ['cold', 'warm'] as const) {
      for (const mode of modes) {
        const f = await measure(mode, phase, s, dynamo);
        results.push(f);
        console.error(JSON.stringify(f));
      }
    }
  } finally {
    await dropSchema();
    await dynamo?.stop();
  }

  const get = (mode: Mode, phase: 'cold' | 'warm') => results.find((r) => r.mode === mode && r.phase === phase);
  const row = (r: Figures) => {
    const base = get('per-request', r.phase);
    const vs = r.mode === 'memory' && base ? ` (${ratio(r.rps, base.rps)})` : '';
    const p = r.perRequest;
    return (
      `| ${r.phase} | ${r.mode === 'memory' ? 'this code' : 'baseline (VENUES_READS=per-request)'} | ${r.rps}${vs} | ${r.p50} | ${r.p99} | ${r.max} | ${r.errors + r.non2xx} | ` +
      `${fmt(p.pg)} | ${fmt(p.storeCalls)} (${fmt(p.storeItems)} items) | ${fmt(p.redis)} | ` +
      `${(r.cpu.server / r.cpu.seconds).toFixed(2)} | ${(r.cpu.client / r.cpu.seconds).toFixed(2)} | ${(r.cpu.postgres / r.cpu.seconds).toFixed(2)} | ${(r.cpu.redis / r.cpu.seconds).toFixed(2)} | ` +
      `${((r.cpu.server * 1000) / Math.max(1, r.requests)).toFixed(2)} |`
    );
  };
  const storms = results.filter((r) => r.storm);
  // Issue 19's goals, read off this run's figures for this code (a phase not run is "not measured").
  const ours = (phase: 'cold' | 'warm') => get('memory', phase);
  const goal = (name: string, target: string, value: (f: Figures) => number, ok: (v: number) => boolean, phase: 'cold' | 'warm') => {
    const f = ours(phase);
    if (!f) return `| ${name} | ${target} | not measured | |`;
    const v = value(f);
    return `| ${name} | ${target} | ${fmt(v)} | ${ok(v) ? 'met' : 'MISSED'} |`;
  };
  const stormOk = storms.filter((r) => r.mode === 'memory');
  const goals = [
    '| goal (issue 19, this code) | target | measured | |',
    '|---|---|---:|---|',
    goal(
      'warm throughput',
      '≥ 2000 req/s',
      (f) => f.rps,
      (v) => v >= 2000,
      'warm',
    ),
    goal(
      'warm p99',
      '≤ 30 ms',
      (f) => f.p99,
      (v) => v <= 30,
      'warm',
    ),
    goal(
      'cold throughput',
      '≥ 500 req/s',
      (f) => f.rps,
      (v) => v >= 500,
      'cold',
    ),
    goal(
      'PostgreSQL queries per warm request',
      '0',
      (f) => f.perRequest.pg,
      (v) => v === 0,
      'warm',
    ),
    goal(
      'presence-store reads per warm request',
      '0',
      (f) => f.perRequest.storeCalls,
      (v) => v === 0,
      'warm',
    ),
    stormOk.length
      ? `| REST answers older than the socket viewer, during the storm | 0, and equal after it | ${stormOk[0]!.storm!.older} | ${stormOk[0]!.storm!.older === 0 && stormOk[0]!.storm!.finalEqual ? 'met' : 'MISSED'} |`
      : '| REST answers older than the socket viewer | 0 | not measured | |',
  ];
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '## GET /api/venues: cold and warm, this code against the per-request reads',
    '',
    `\`npm run bench -- venues\` (= \`npx tsx bench/venues-bench.ts --duration ${duration} --connections ${connections} --venues ${venueCount} --storm ${stormPhones}${args.dynamo ? ' --dynamo' : ''}\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `${os.cpus().length} × ${cpuModel}, Node ${process.version}, load average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' / ',
        )}. One server process on real PostgreSQL and Redis; presence ${args.dynamo ? 'in DynamoDB Local' : "in the node's in-process store"}. ` +
      `${venueCount} venues over a 20 km disc, 100 of them within 1.9 km of the caller (6 menu items, 2 specials each), the tables vacuumed after seeding as autovacuum would; one signed-in caller with ${FRIENDS} friends checked in at venues of the answer; radius ${args.radius}, 50 venues per answer; autocannon (in the benchmark process) with ${connections} connections for ${duration} s per run. ` +
      'Baseline: the same build with `VENUES_READS=per-request` (counts from the presence store, friends from PostgreSQL and their presence from the store, every venue serialised per request, details one query per relation), in the same invocation.',
    '',
    'Cold: `VENUES_CACHE_SECONDS=0`, every answer reads PostgreSQL. Warm: the default cache after one priming request and one count resync, ' +
      `with a check-in storm beside the requests (${stormPhones} phones on sockets moving between two venues of the answer every ${STORM_STEP_MS} ms, a socket viewer on the node watching both). ` +
      'Reads per request are counted inside the server (PostgreSQL statements, presence-store calls, Redis commands made in the request’s async context; bench/lib/read-counter-preload.ts). CPU columns are cores used during the run (CPU seconds ÷ wall seconds); the box has 2.',
    '',
    '| phase | code | req/s (vs baseline) | p50 ms | p99 ms | max ms | errors | PG queries / req | store reads / req | Redis cmds / req | server cores | load-generator cores | PostgreSQL cores | Redis cores | server CPU ms / req |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(row),
    '',
    ...goals,
    '',
    'Check-in storm (warm runs): every sampled REST answer compared with the last count the socket viewer on the same node had been sent before the request left; then, the storm stopped, the two compared exactly.',
    '',
    '| code | check-ins | viewer messages | REST samples | REST older than the viewer | after the storm |',
    '|---|---:|---:|---:|---:|---|',
    ...storms.map(
      (r) =>
        `| ${r.mode === 'memory' ? 'this code' : 'baseline'} | ${r.storm!.checkIns} | ${r.storm!.viewerMessages} | ${r.storm!.samples} | ${r.storm!.older} | ${r.storm!.finalEqual ? 'equal' : 'DIFFERENT'}: ${r.storm!.final} |`,
    ),
    '',
    `Background work during the warm runs (not charged to requests): ${storms
      .map(
        (r) =>
          `${r.mode === 'memory' ? 'this code' : 'baseline'} ${r.background.pg} PG statements, ${r.background.storeCalls} store calls, ${r.background.redis} Redis commands`,
      )
      .join('; ')} (the storm's check-ins, the count resync, sweeps).`,
  ];
  for (const phase of ['cold', 'warm']) {
    const dir = args.profile ? join(args.profile, phase) : '';
    if (!dir || !existsSync(dir)) continue;
    const top = topCosts(dir, 10);
    lines.push(
      '',
      `${phase} profile of this code (\`node --cpu-prof\`, the whole server process with its start-up, self time, ${Math.round(top.total)} ms busy): ` +
        `${top.rows.map((r) => `${r.group} ${Math.round(r.ms)} ms`).join(', ')}.`,
    );
  }
  lines.push('', '### The cold path’s two PostgreSQL queries, as the server sends them, explained on the seeded tables', '', ...plans);
  writeSection(args.out!, lines.join('\n'));
  const bad = storms.filter((r) => r.storm!.older > 0 || !r.storm!.finalEqual);
  if (bad.length) {
    console.error(`REST count behind the socket viewer: ${bad.map((r) => r.mode).join(', ')}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
