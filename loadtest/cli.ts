import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { traceToLines } from '../protocol/trace';
import { generateTrace, syntheticVenues } from './generator';
import { LoadtestRefused, runLoadtest } from './run';

const HELP = `Friday-night load tester: generate a night of traffic, replay it, judge the counts.

  npm run loadtest -- [options]

  --users N            people out tonight (5000)
  --venues M           venues used (200); nodes started here get generated venues up to M
  --speed X            time compression: X ms of night per real ms (60)
  --minutes T          length of the night in minutes of trace time (360: 21:00 → 03:00)
  --viewers K          map viewers panning (users / 250, at least 4)
  --quiesce Q          judge checkpoints, the last at the end of the night (4)
  --seed S             trace seed (1)
  --nodes N            nodes to start when no --url is given (1; 3 with --chaos)
  --stores S           embedded (one node, no services) | real (PostgreSQL, Redis, DynamoDB Local) (embedded; real when --nodes > 1)
  --url U              replay against running servers instead (repeatable); loopback only unless --allow-remote
  --allow-remote       permit non-loopback --url targets
  --server-timeout S   PRESENCE_TIMEOUT_SECONDS of the --url servers (600)
  --server-grace S     PRESENCE_GRACE_SECONDS of the --url servers (60)
  --no-orders          skip orders, payments, accepts and scans
  --chaos              SIGKILL one node mid-night and restart Redis (a private redis-server) later; the
                       judge must find every count exact after each recovery window (real stores)
  --chaos-redis-down S seconds Redis stays down under --chaos (5)
  --naive              start nodes in naive mode (COUNT_COALESCE_MS=0: broadcast every change)
  --max-clients N      refuse traces needing more sockets than this (20000)
  --max-duration S     stop the replay after S real seconds (900)
  --trace-in FILE      replay this trace (JSON lines, protocol/trace.ts) instead of generating one
  --trace-out FILE     write the trace used
  --generate-only      write the trace (--trace-out, venues synthetic unless --url) and exit
  --html FILE          HTML report (.data/loadtest/report.html)
  --lat / --lng        city centre (40.7128, -74.006)
  --dynamo-endpoint U  an already running DynamoDB Local for --stores real
`;

const { values: a } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    venues: { type: 'string', default: '200' },
    speed: { type: 'string', default: '60' },
    minutes: { type: 'string', default: '360' },
    viewers: { type: 'string' },
    quiesce: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    nodes: { type: 'string' },
    stores: { type: 'string' },
    url: { type: 'string', multiple: true },
    'allow-remote': { type: 'boolean', default: false },
    'server-timeout': { type: 'string' },
    'server-grace': { type: 'string' },
    'no-orders': { type: 'boolean', default: false },
    naive: { type: 'boolean', default: false },
    chaos: { type: 'boolean', default: false },
    'chaos-redis-down': { type: 'string', default: '5' },
    'max-clients': { type: 'string', default: '20000' },
    'max-duration': { type: 'string', default: '900' },
    'trace-in': { type: 'string' },
    'trace-out': { type: 'string' },
    'generate-only': { type: 'boolean', default: false },
    html: { type: 'string', default: '.data/loadtest/report.html' },
    lat: { type: 'string', default: '40.7128' },
    lng: { type: 'string', default: '-74.006' },
    'dynamo-endpoint': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

function num(name: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`--${name} must be a number ≥ ${min}\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  if (a.help) {
    process.stdout.write(HELP);
    return;
  }
  const nodes = num('nodes', a.nodes ?? (a.chaos ? '3' : '1'), 1);
  const stores = (a.stores ?? (nodes > 1 ? 'real' : 'embedded')) as 'embedded' | 'real';
  if (stores !== 'embedded' && stores !== 'real') throw new Error('--stores is embedded or real');
  const common = {
    users: num('users', a.users, 1),
    venues: num('venues', a.venues, 1),
    seed: num('seed', a.seed),
    durationMs: num('minutes', a.minutes, 1) * 60_000,
    viewers: a.viewers ? num('viewers', a.viewers) : undefined,
    quiescePoints: num('quiesce', a.quiesce, 1),
  };
  if (a['generate-only'] && !a.url) {
    const trace = generateTrace({ ...common, venues: syntheticVenues(common.venues) });
    const out = a['trace-out'] ?? '.data/loadtest/trace.jsonl';
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, traceToLines(trace));
    process.stderr.write(
      `wrote ${trace.events.length} events to ${out} (synthetic venues: replay with --trace-in against a server seeded with lt-venue-* slugs)\n`,
    );
    return;
  }
  const outcome = await runLoadtest({
    ...common,
    speed: num('speed', a.speed, 0.01),
    urls: a.url,
    nodes,
    stores,
    orders: !a['no-orders'],
    maxClients: num('max-clients', a['max-clients'], 1),
    maxDurationMs: num('max-duration', a['max-duration'], 1) * 1000,
    allowRemote: a['allow-remote'],
    center: { lat: num('lat', a.lat, -90), lng: num('lng', a.lng, -180) },
    traceIn: a['trace-in'],
    traceOut: a['trace-out'],
    htmlOut: a.html,
    nodeEnv: a.naive ? { COUNT_COALESCE_MS: '0' } : undefined,
    serverTimeoutSeconds: a['server-timeout'] ? num('server-timeout', a['server-timeout'], 1) : undefined,
    serverGraceSeconds: a['server-grace'] ? num('server-grace', a['server-grace']) : undefined,
    dynamoEndpoint: a['dynamo-endpoint'],
    chaos: a.chaos,
    chaosRedisDownMs: num('chaos-redis-down', a['chaos-redis-down'], 0) * 1000,
  });
  process.stdout.write(`${outcome.summary}\n`);
  if (a.html) process.stdout.write(`report: ${a.html}\n`);
  process.exitCode = outcome.verdict.pass ? 0 : 1;
}

main().catch((err: unknown) => {
  if (err instanceof LoadtestRefused) {
    process.stderr.write(`loadtest refused: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`loadtest failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
