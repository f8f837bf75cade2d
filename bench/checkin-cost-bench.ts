/**
 * What one check-in costs a node: PostgreSQL statements, inter-node publishes (Redis) and node CPU per
 * check-in, with the ack latency, for this code and for a baseline (the commit before issue 13's
 * PostgreSQL/fan-out work, `--baseline-ref`, unpacked beside the repo) in the same invocation. One node,
 * open loop: `--users` phones signed in, each check-in a move to another demo venue, at `--rate`/s for
 * `--duration` s. Modes: `cluster` (real PostgreSQL, Redis, a DynamoDB Local of its own) and `embedded`
 * (PGlite and the in-process stores). The server runs as its own process with a preload that counts SQL
 * statements and `serverSideEmit` calls the same way for both versions. `--profile` also writes
 * `--cpu-prof` profiles and prints each run's top self-time by module. Writes bench/results/checkin-cost.md.
 *
 *   npm run bench -- checkin-cost      (npx tsx bench/checkin-cost-bench.ts [--rate 100] [--duration 20] [--modes cluster,embedded] [--profile])
 */
import { execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { io as ioClient, type Socket } from 'socket.io-client';
import { ClientEvent } from '../protocol/events';
import { ensurePostgres, ensureRedis } from '../scripts/lib/services';
import { freePort, startDynamoLocal, type DynamoLocal } from '../scripts/lib/dynamo-local';
import { ratio, table, writeSection, type Row } from './lib/report';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    users: { type: 'string', default: '200' },
    modes: { type: 'string', default: 'cluster,embedded' },
    'baseline-ref': { type: 'string', default: 'de5552b' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: 'checkin-cost' },
  },
});
const RATE = Number(args.rate);
const DURATION_S = Number(args.duration);
const USERS = Number(args.users);
const MODES = args.modes.split(',') as ('cluster' | 'embedded')[];
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const HERE = process.cwd();
const PRELOAD = path.join(HERE, 'bench/lib/pg-query-counter-preload.ts');
const id = randomUUID().slice(0, 8);
const work = path.join(os.tmpdir(), `treatme-checkin-cost-${id}`);
mkdirSync(work, { recursive: true });

/** The baseline's source beside ours, sharing node_modules, with its own generated Prisma client. */
function baselineRoot(ref: string): string {
  const root = path.join(os.tmpdir(), `treatme-baseline-${ref}`);
  if (!existsSync(path.join(root, 'server/main.ts'))) {
    mkdirSync(root, { recursive: true });
    execSync(`git archive ${ref} | tar -x -C ${root}`, { stdio: 'inherit', shell: '/bin/bash' });
  }
  if (!existsSync(path.join(root, 'node_modules'))) symlinkSync(path.join(HERE, 'node_modules'), path.join(root, 'node_modules'));
  // Its own Prisma client from its own schema: ours has columns its migrations never made (a copy of
  // ours made every baseline dev-login fail, so its sockets were anonymous and every check-in refused).
  if (!existsSync(path.join(root, 'server/generated/.baseline-own')) && existsSync(path.join(root, 'scripts/prisma-generate.mjs'))) {
    execSync('node scripts/prisma-generate.mjs --force', { cwd: root, stdio: 'ignore' });
    writeFileSync(path.join(root, 'server/generated/.baseline-own'), '');
  }
  if (!existsSync(path.join(root, 'server/generated')))
    cpSync(path.join(HERE, 'server/generated'), path.join(root, 'server/generated'), { recursive: true });
  if (!existsSync(path.join(root, 'web/dist')) && existsSync(path.join(HERE, 'web/dist')))
    cpSync(path.join(HERE, 'web/dist'), path.join(root, 'web/dist'), { recursive: true });
  return root;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function counters(file: string): { queries: number; publishes: number; texts?: Record<string, number> } {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { queries: number; publishes: number; texts?: Record<string, number> };
  } catch {
    return { queries: 0, publishes: 0 };
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

interface Figures {
  checkIns: number;
  queriesPer: number;
  publishesPer: number;
  cpuMsPer: number;
  p50: number;
  p99: number;
  errors: number;
  profileTop: string[];
}

/** Self time by module (node_modules package, or the repo file) from a .cpuprofile. */
function topOfProfile(dir: string): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[];
  };
  const by = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const url = n.callFrame.url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const key =
      pkg ??
      (url.includes('/server/')
        ? `server/${url.split('/server/')[1]}`
        : url.startsWith('node:')
          ? 'node internals'
          : n.callFrame.functionName
            ? `(${n.callFrame.functionName})`
            : '(other)');
    by.set(key, (by.get(key) ?? 0) + hits);
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, v]) => `${k} ${((100 * v) / total).toFixed(1)}%`);
}

async function run(
  mode: 'cluster' | 'embedded',
  label: 'baseline' | 'ours',
  root: string,
  dynamo: DynamoLocal | undefined,
): Promise<Figures> {
  const port = await freePort();
  const countFile = path.join(work, `${mode}-${label}.json`);
  const profDir = path.join(work, `prof-${mode}-${label}`);
  const schema = `bench_cost_${id}_${label}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ID: `bench-${label}`,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    DEV_MODE: 'true',
    SEED_DEMO_DATA: 'true',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    RATE_LIMIT_WRITES_PER_MINUTE: '100000',
    PG_QUERY_COUNT_FILE: countFile,
    ...(mode === 'embedded'
      ? { PGLITE_IN_MEMORY: 'true', TREATME_MODE: 'embedded' }
      : {
          TREATME_MODE: 'cluster',
          DATABASE_URL: POSTGRES,
          DATABASE_SCHEMA: schema,
          REDIS_URL: REDIS,
          REDIS_KEY_PREFIX: `bench:cost:${id}:${label}:`,
          DYNAMODB_ENDPOINT: dynamo!.endpoint,
          AWS_REGION: 'us-east-1',
          DYNAMODB_TABLE_PREFIX: `bench-cost-${id}-${label}-`,
          DYNAMODB_CREATE_TABLES: 'true',
          JWT_SECRET: `bench-secret-${id}-0123456789abcdefghijklmnop`,
        }),
  };
  if (mode === 'cluster') {
    // The deploy step (`npm run db:migrate`), against the version's own migrations.
    execSync('node --experimental-wasm-modules --import tsx scripts/db-migrate.ts', { cwd: root, env, stdio: 'ignore' });
  }
  const execArgv = [
    '--import',
    'tsx',
    '--import',
    PRELOAD,
    ...(args.profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
    'server/main.ts',
  ];
  const proc = spawn(process.execPath, execArgv, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const sockets: Socket[] = [];
  try {
    for (let t = Date.now(); ;) {
      if (proc.exitCode !== null) throw new Error(`${label} server exited: ${stderr}`);
      if (Date.now() - t > 180_000) throw new Error(`${label} server not ready: ${stderr}`);
      if (
        await fetch(`${url}/ready`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const { venues } = (await (await fetch(`${url}/api/venues?lat=40.7128&lng=-74.006&radius=5km`)).json()) as {
      venues: { id: string; latitude: number; longitude: number }[];
    };
    const tokens: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const r = await fetch(`${url}/api/auth/dev-login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `cost${i}@bench.treatme.dev` }),
      });
      tokens.push(((await r.json()) as { accessToken: string }).accessToken);
    }
    for (const token of tokens) {
      const s = ioClient(url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
      await new Promise<void>((res, rej) => (s.once('connect', () => res()), s.once('connect_error', rej)));
      sockets.push(s);
    }
    let refused = false;
    const checkIn = (s: Socket, v: { id: string; latitude: number; longitude: number }) =>
      new Promise<boolean>((res) =>
        s
          .timeout(10_000)
          .emit(ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude }, (err: unknown, ack: { ok?: boolean }) => {
            const ok = !err && ack?.ok !== false;
            // The first refusal says why (a baseline that refuses everything is no baseline).
            if (!ok && !refused) {
              refused = true;
              process.stderr.write(`  ${mode} ${label}: first refused check-in: ${err ? String(err) : JSON.stringify(ack)}\n`);
            }
            res(ok);
          }),
      );
    // Everyone checked in once before measuring: from here every check-in is a move.
    await Promise.all(sockets.map((s, i) => checkIn(s, venues[i % venues.length]!)));
    await new Promise((r) => setTimeout(r, 1_500));

    const before = counters(countFile);
    const ticks0 = cpuTicks(proc.pid!);
    const latencies: number[] = [];
    let errors = 0;
    const step = new Array<number>(USERS).fill(1);
    const inflight: Promise<void>[] = [];
    const total = RATE * DURATION_S;
    const start = performance.now();
    for (let n = 0; n < total; n++) {
      const due = start + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const u = n % USERS;
      const v = venues[(u + step[u]!++) % venues.length]!;
      const t = performance.now();
      inflight.push(checkIn(sockets[u]!, v).then((ok) => (ok ? void latencies.push(performance.now() - t) : void errors++)));
    }
    await Promise.all(inflight);
    // The last journal flush and trailing windows belong to these check-ins.
    await new Promise((r) => setTimeout(r, 1_500));
    const ticks = cpuTicks(proc.pid!) - ticks0;
    const after = counters(countFile);
    if (after.texts) {
      // PG_QUERY_TEXTS=1: which statements the measured window sent, per check-in.
      const per = Object.entries(after.texts)
        .map(([t, n]) => [t, (n - (before.texts?.[t] ?? 0)) / total] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]);
      for (const [t, n] of per.slice(0, 12))
        process.stderr.write(`  ${mode} ${label} ${n.toFixed(3)}/check-in  ${t.replace(/\s+/g, ' ')}\n`);
    }
    return {
      checkIns: latencies.length,
      queriesPer: (after.queries - before.queries) / total,
      publishesPer: (after.publishes - before.publishes) / total,
      // Per check-in sent: one that timed out still cost its work, mostly after its ack's deadline.
      cpuMsPer: (ticks * 10) / total,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      errors,
      profileTop: [],
    };
  } finally {
    for (const s of sockets) s.disconnect();
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    if (mode === 'cluster') {
      const c = new pg.Client({ connectionString: POSTGRES });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => c.end());
    }
  }
}

async function main(): Promise<void> {
  const baseline = baselineRoot(args['baseline-ref']);
  let dynamo: DynamoLocal | undefined;
  if (MODES.includes('cluster')) {
    await ensurePostgres(() => undefined);
    await ensureRedis(() => undefined);
    dynamo = await startDynamoLocal({ inMemory: true });
  }
  const sections: string[] = [];
  try {
    for (const mode of MODES) {
      const results: Record<'baseline' | 'ours', Figures> = {} as never;
      for (const [label, root] of [
        ['baseline', baseline],
        ['ours', HERE],
      ] as const) {
        process.stdout.write(`  ${mode} ${label}: ${RATE}/s for ${DURATION_S} s over ${USERS} phones…\n`);
        results[label] = await run(mode, label, root, dynamo);
        if (args.profile) results[label].profileTop = topOfProfile(path.join(work, `prof-${mode}-${label}`));
      }
      const b = results.baseline;
      const o = results.ours;
      const f = (x: number, d = 2) => x.toFixed(d);
      const rows: Row[] = [
        {
          measure: 'PostgreSQL statements per check-in',
          baseline: f(b.queriesPer),
          ours: f(o.queriesPer),
          ratio: ratio(b.queriesPer, o.queriesPer),
          goal: '≤ 0.6',
        },
        {
          measure: 'inter-node publishes per check-in',
          baseline: f(b.publishesPer),
          ours: f(o.publishesPer),
          ratio: ratio(b.publishesPer, o.publishesPer),
          goal: mode === 'cluster' ? 'one per window' : 'none (single node)',
        },
        { measure: 'node CPU ms per check-in', baseline: f(b.cpuMsPer), ours: f(o.cpuMsPer), ratio: ratio(b.cpuMsPer, o.cpuMsPer) },
        {
          measure: 'ack p50 / p99 ms',
          baseline: `${f(b.p50, 1)} / ${f(b.p99, 1)}`,
          ours: `${f(o.p50, 1)} / ${f(o.p99, 1)}`,
          ratio: ratio(b.p99, o.p99),
        },
        {
          measure: 'check-ins acknowledged (errors)',
          baseline: `${b.checkIns} (${b.errors})`,
          ours: `${o.checkIns} (${o.errors})`,
          ratio: '',
        },
      ];
      let md = `### ${mode === 'cluster' ? 'One node on PostgreSQL, Redis and DynamoDB Local' : 'Embedded node (PGlite, in-process stores)'}\n\n${table(rows)}\n`;
      if (args.profile)
        md += `\nTop self time (\`--cpu-prof\`, by module) — baseline: ${b.profileTop.join(', ')}\n\nTreatMe: ${o.profileTop.join(', ')}\n`;
      sections.push(md);
    }
  } finally {
    await dynamo?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  writeSection(
    args.out,
    `## Check-in cost: PostgreSQL off the check-in path, one publish per window (issue 13, PostgreSQL/fan-out side)

\`npm run bench -- checkin-cost\` (\`npx tsx bench/checkin-cost-bench.ts --rate ${RATE} --duration ${DURATION_S} --users ${USERS}${args.profile ? ' --profile' : ''}\`): one node, ${USERS} phones
signed in and checked in, then ${RATE} moves/s for ${DURATION_S} s (open loop); the baseline is commit
\`${args['baseline-ref']}\` (before this work) run in the same invocation. Statements and publishes are counted in the
server process by a preload (\`bench/lib/pg-query-counter-preload.ts\`) that patches node-postgres, PGlite and
socket.io's \`serverSideEmit\` identically for both; CPU is the server process's from /proc. Background work of the
window (journal flushes, resyncs) is included.

${sections.join('\n')}`,
  );
}

await main();
