/**
 * GET /api/venues under load, with the venue query cache disabled (every request runs the PostgreSQL
 * query: cold) and enabled after one priming request (warm). Real PostgreSQL and Redis on localhost;
 * presence in the in-process store unless --dynamo (DynamoDB Local), so the figures isolate what the
 * cache saves. Writes bench/results/venues.md.
 *
 *   npx tsx bench/venues-bench.ts [--duration 10] [--connections 20] [--venues 5000] [--dynamo]
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import pino from 'pino';
import { buildServer, type RunningServer } from '../server/build-server';
import { loadConfig } from '../server/config/config';
import { ensurePostgres, ensureRedis } from '../scripts/lib/services';
import { startDynamoLocal, type DynamoLocal } from '../scripts/lib/dynamo-local';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    venues: { type: 'string', default: '5000' },
    radius: { type: 'string', default: '2km' },
    dynamo: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/venues.md' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const venueCount = Number(args.venues);
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CENTER = { lat: 40.7128, lng: -74.006 };
const FRIENDS = 20;

interface Figures {
  label: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  venuesPerAnswer: number;
}

const id = randomUUID().slice(0, 8);
const schema = `bench_${id}`;

async function start(cacheSeconds: number, dynamo: DynamoLocal | undefined): Promise<RunningServer> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: POSTGRES,
    DATABASE_SCHEMA: schema,
    REDIS_URL: REDIS,
    REDIS_KEY_PREFIX: `bench:${id}:${cacheSeconds}:`,
    JWT_SECRET: `bench-secret-${id}-0123456789abcdefghijklmnop`,
    DEV_MODE: 'true',
    SEED_DEMO_DATA: 'false',
    VENUES_CACHE_SECONDS: String(cacheSeconds),
    // The benchmark client is one IP and one user: keep the limiter out of the figures.
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    ...(dynamo
      ? {
          DYNAMODB_ENDPOINT: dynamo.endpoint,
          AWS_REGION: 'us-east-1',
          DYNAMODB_TABLE_PREFIX: `bench-${id}-`,
          DYNAMODB_CREATE_TABLES: 'true',
        }
      : {}),
  });
  const server = await buildServer(config, { logger: pino({ level: 'silent' }), migrate: true });
  await server.listen(0, '127.0.0.1');
  return server;
}

/** Venues spread uniformly over a 20 km disc, each with a menu and specials, like a dense city. */
async function seed(server: RunningServer): Promise<{ token: string }> {
  const prisma = server.ctx.db.prisma;
  const rows = Array.from({ length: venueCount }, (_, i) => {
    const r = 20_000 * Math.sqrt(Math.random());
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

  const me = await prisma.user.create({ data: { email: `bench-${id}@treatme.dev`, displayName: 'Bench' } });
  const now = server.ctx.now();
  for (let i = 0; i < FRIENDS; i++) {
    const f = await prisma.user.create({ data: { email: `bench-${id}-f${i}@treatme.dev`, displayName: `Friend ${i}` } });
    await prisma.friendship.create({ data: { requesterId: me.id, addresseeId: f.id, status: 'ACCEPTED', acceptedAt: new Date() } });
    const v = rows[i % 50]!;
    await server.ctx.presence.checkIn({ userId: f.id, venueId: v.id, lat: v.latitude, lng: v.longitude, now });
  }
  return { token: server.ctx.tokens.sign(me.id, 3600) };
}

async function run(label: string, url: string, token: string): Promise<Figures> {
  const probe = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const venuesPerAnswer = ((await probe.json()) as { venues: unknown[] }).venues.length;
  const r = await autocannon({ url, connections, duration, headers: { authorization: `Bearer ${token}` } });
  return {
    label,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    venuesPerAnswer,
  };
}

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

async function main(): Promise<void> {
  await Promise.all([ensurePostgres(), ensureRedis()]);
  const dynamo = args.dynamo ? await startDynamoLocal() : undefined;
  const results: Figures[] = [];
  try {
    const cold = await start(0, dynamo);
    const { token } = await seed(cold);
    const path = `/api/venues?lat=${CENTER.lat}&lng=${CENTER.lng}&radius=${args.radius}`;
    const coldUrl = `http://127.0.0.1:${(cold.httpServer.address() as { port: number }).port}${path}`;
    results.push(await run('cold (cache off: PostgreSQL every request)', coldUrl, token));
    await cold.shutdown('bench');

    const warm = await start(300, dynamo);
    const warmUrl = `http://127.0.0.1:${(warm.httpServer.address() as { port: number }).port}${path}`;
    results.push(await run('warm (Redis cache hit; counts and friends live)', warmUrl, token));
    await warm.shutdown('bench');
  } finally {
    await dropSchema();
    await dynamo?.stop();
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const lines = [
    '## GET /api/venues — query cache cold vs warm',
    '',
    `\`npx tsx bench/venues-bench.ts --duration ${duration} --connections ${connections} --venues ${venueCount}${args.dynamo ? ' --dynamo' : ''}\`, ${new Date().toISOString().slice(0, 10)}, ` +
      `${os.cpus().length} × ${cpu}, Node ${process.version}; PostgreSQL and Redis on localhost; presence ${args.dynamo ? 'in DynamoDB Local' : 'in the in-process store'}; load average at the end ${load} (1/5/15 min): compare runs, not machines.`,
    `${venueCount} venues over a 20 km disc (6 menu items and 2 specials each); one signed-in caller with ${FRIENDS} friends checked in; radius ${args.radius}; autocannon, ${connections} connections for ${duration} s per run.`,
    '',
    '| run | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx | venues per answer |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) => `| ${r.label} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.errors} | ${r.non2xx} | ${r.venuesPerAnswer} |`,
    ),
    '',
    `Warm / cold throughput: ×${(results[1]!.rps / Math.max(1, results[0]!.rps)).toFixed(1)}. Cold runs the bounding-box query and loads the winners’ menus and specials from PostgreSQL on every request; warm reads that part from one Redis key (5 min, per 0.001° cell) and still reads live counts from the presence store and the caller’s friends from PostgreSQL each time.`,
    '',
  ];
  writeFileSync(args.out!, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
