/**
 * Check-in capacity (issue 13), every figure beside a baseline from the same invocation:
 *
 *  (a) the store ceiling: DynamoDB Local alone, the check-in's own write shape (one move: pointer,
 *      old stay, new stay, two counters) at concurrency 32, no server — and the batched shape;
 *  (b) one node and three nodes on the real stores: closed loop (check-ins/s held), then open loop at
 *      50 % of that rate (ack p50/p99), CPU ms per check-in per process group, DynamoDB requests per
 *      check-in (background work included), and an exactness check of the counts afterwards;
 *  (c) the embedded node, the same way;
 *  (d) the baseline: the code before this work (`--baseline-rev`, default de5552b, unpacked with
 *      `git archive` next to this tree and run with this tree's node_modules).
 *
 *   npx tsx bench/capacity-bench.ts [--seconds 8] [--users 240] [--skip ceiling,one,three,embedded,baseline]
 *                                   [--profile DIR] (nodes run under `node --cpu-prof`, top costs reported)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { AccessTokens } from '../server/auth/access-tokens';
import { venuesFromDatabase } from '../loadtest/city';
import { startNodes } from '../loadtest/nodes';
import { startDynamoLocal } from '../scripts/lib/dynamo-local';
import { DynamoPresenceStore } from '../server/presence/dynamo-presence-store';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { ensureTables, tableName } from '../server/storage/dynamo-tables';
import type { TraceVenue } from '../protocol/trace';
import { connectUsers, runPhase, type PhaseResult } from './lib/checkin-load';
import { topCosts } from './lib/cpu-profile';
import { CPU_GROUPS, cpuByGroup } from './lib/proc-cpu';
import { writeSection } from './lib/report';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    users: { type: 'string', default: '240' },
    venues: { type: 'string', default: '50' },
    skip: { type: 'string', default: '' },
    profile: { type: 'string' },
    'baseline-rev': { type: 'string', default: 'de5552b' },
  },
});
const skip = new Set(args.skip.split(',').filter(Boolean));
const SECONDS = Number(args.seconds);
const USERS = Number(args.users);
const CENTER = { lat: 40.7128, lng: -74.006 };
const log = (m: string) => process.stderr.write(`${m}\n`);
const NODE_ENV = { SOCKET_EVENTS_PER_SECOND: '10000', SOCKET_EVENTS_BURST: '10000', PRESENCE_TIMEOUT_SECONDS: '600' };

// ---- (a) the store ceiling ---------------------------------------------------------------------

async function storeCeiling(): Promise<string[]> {
  const dynamo = await startDynamoLocal();
  try {
    const { client, doc } = createDynamoClients({ endpoint: dynamo.endpoint, region: 'us-east-1' });
    const prefix = 'ceiling-';
    await ensureTables(client, prefix);
    const presence = tableName(prefix, 'presence');
    const counts = tableName(prefix, 'venue-counts');
    const moveOps = (u: string, rev: number, from: string, to: string, now: number) => [
      {
        Put: {
          TableName: presence,
          Item: { userId: u, venueId: '#user', rev: rev + 1 },
          ...(rev === 0
            ? { ConditionExpression: 'attribute_not_exists(userId)' }
            : { ConditionExpression: 'rev = :r', ExpressionAttributeValues: { ':r': rev } }),
        },
      },
      ...(rev === 0 ? [] : [{ Delete: { TableName: presence, Key: { userId: u, venueId: from } } }]),
      {
        Put: {
          TableName: presence,
          Item: {
            userId: u,
            venueId: to,
            expiresAt: now + 600_000,
            expShard: String(rev % 16),
            checkedInAt: now,
            lastSeenAt: now,
            lat: 40.7,
            lng: -74,
          },
        },
      },
      ...(rev === 0
        ? []
        : [
            {
              Update: {
                TableName: counts,
                Key: { venueId: from, shard: rev % 4 },
                UpdateExpression: 'ADD #c :m, #v :one',
                ExpressionAttributeNames: { '#c': 'count', '#v': 'version' },
                ExpressionAttributeValues: { ':m': -1, ':one': 1 },
              },
            },
          ]),
    ];
    const counter = (venue: string, delta: number, shard: number) => ({
      Update: {
        TableName: counts,
        Key: { venueId: venue, shard },
        UpdateExpression: 'ADD #c :d, #v :one',
        ExpressionAttributeNames: { '#c': 'count', '#v': 'version' },
        ExpressionAttributeValues: { ':d': delta, ':one': 1 },
      },
    });
    const out: string[] = [];
    // The first pass only warms DynamoDB Local's JIT up (a cold JVM runs several times slower).
    for (const [perTx, seconds, warmup] of [
      [1, 3, true],
      [1, SECONDS, false],
      [10, SECONDS, false],
    ] as const) {
      const users = Array.from({ length: 32 * perTx }, (_, i) => ({ id: `c${perTx}-${seconds}-${i}`, rev: 0, venue: 'v0' }));
      let moves = 0;
      let failed = 0;
      const procs = cpuByGroup([]);
      const start = Date.now();
      await Promise.all(
        Array.from({ length: 32 }, async (_, w) => {
          const mine = users.slice(w * perTx, (w + 1) * perTx);
          while (Date.now() - start < seconds * 1000) {
            const now = Date.now();
            const deltas = new Map<string, number>();
            const ops = mine.flatMap((u) => {
              const to = `v${(u.rev * 7 + w) % 50}` === u.venue ? `v${(u.rev * 7 + w + 1) % 50}` : `v${(u.rev * 7 + w) % 50}`;
              const o = moveOps(u.id, u.rev, u.venue, to, now).filter((x) => !('Update' in x));
              if (u.rev > 0) deltas.set(u.venue, (deltas.get(u.venue) ?? 0) - 1);
              deltas.set(to, (deltas.get(to) ?? 0) + 1);
              (u as { next?: string }).next = to;
              return o;
            });
            const shard = w % 4;
            const all = [...ops, ...[...deltas].map(([v, d]) => counter(v, d, shard))];
            try {
              await doc.send(new TransactWriteCommand({ TransactItems: all }));
              for (const u of mine) {
                u.rev++;
                u.venue = (u as { next?: string }).next ?? u.venue;
              }
              moves += mine.length;
            } catch {
              failed++;
            }
          }
        }),
      );
      const secs = (Date.now() - start) / 1000;
      const cpu = procs.stop().get('DynamoDB Local') ?? 0;
      if (warmup) continue;
      log(
        `  ceiling, ${perTx} move(s) per transaction: ${(moves / secs).toFixed(0)} check-ins/s, ${failed} cancelled, DynamoDB Local ${((cpu / Math.max(1, moves)) * 1000).toFixed(2)} ms CPU per check-in`,
      );
      out.push(
        `| ${perTx === 1 ? "one move per TransactWriteItems (today's shape)" : '10 moves per TransactWriteItems, counters merged per venue (batched shape)'} | 32 | **${(moves / secs).toFixed(0)}/s** | ${failed} | ${((cpu / Math.max(1, moves)) * 1000).toFixed(2)} ms |`,
      );
    }
    client.destroy();
    return [
      '### (a) Store ceiling: DynamoDB Local alone, no server',
      '',
      '| write shape | concurrency | check-ins/s | transactions cancelled | DynamoDB Local CPU per check-in |',
      '|---|---|---|---|---|',
      ...out,
    ];
  } finally {
    await dynamo.stop();
  }
}

// ---- (b)/(c) nodes -----------------------------------------------------------------------------

interface NodeRun {
  label: string;
  code: 'TreatMe' | 'baseline';
  saturated: PhaseResult;
  half: PhaseResult;
  exact: string;
  profile?: { total: number; rows: { group: string; ms: number }[] };
}

async function nodeRun(
  label: string,
  code: NodeRun['code'],
  o: { nodes: number; stores: 'real' | 'embedded'; cwd?: string },
): Promise<NodeRun> {
  let venues: TraceVenue[] = [];
  let tokens: string[] = [];
  const profDir = args.profile ? resolve(args.profile, `${label.replace(/\W+/g, '-')}-${code}`) : undefined;
  if (profDir) {
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
  }
  const nodes = await startNodes({
    nodes: o.nodes,
    stores: o.stores,
    venues: Number(args.venues),
    center: CENTER,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    env: NODE_ENV,
    ...(profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    log,
    prepare: async (prisma, secret) => {
      venues = await venuesFromDatabase(prisma, CENTER, Number(args.venues));
      const emails = Array.from({ length: USERS }, (_, i) => `cap-${i}@loadtest.treatme.dev`);
      await prisma.user.createMany({ data: emails.map((email) => ({ email, displayName: 'Cap' })), skipDuplicates: true });
      const rows = await prisma.user.findMany({ where: { email: { in: emails } }, select: { id: true } });
      const t = new AccessTokens(secret, 3_600);
      tokens = rows.map((r) => t.sign(r.id));
    },
  });
  const users = await connectUsers(nodes.urls, tokens);
  try {
    const pids = nodes.nodes.map((n) => n.proc.pid ?? -1);
    // A short warm-up: JIT, connection pools, first check-ins (creates) out of the way.
    await runPhase({ users, venues, urls: nodes.urls, serverPids: pids, seconds: 3 });
    const saturated = await runPhase({ users, venues, urls: nodes.urls, serverPids: pids, seconds: SECONDS });
    log(
      `  ${label} ${code}: closed loop ${saturated.rate.toFixed(0)}/s, ack p50 ${saturated.ack.percentile(50).toFixed(1)} p99 ${saturated.ack.percentile(99).toFixed(1)} ms, errors ${JSON.stringify(Object.fromEntries(saturated.errors))}, batch ${saturated.batchSize.toFixed(1)}, dynamo ${JSON.stringify(Object.fromEntries(saturated.byCommand))}`,
    );
    const half = await runPhase({
      users,
      venues,
      urls: nodes.urls,
      serverPids: pids,
      seconds: SECONDS,
      rate: Math.max(10, Math.round(saturated.rate / 2)),
    });
    log(
      `  ${label} ${code}: at ${Math.round(saturated.rate / 2)}/s ack p50 ${half.ack.percentile(50).toFixed(1)} p99 ${half.ack.percentile(99).toFixed(1)} ms`,
    );
    let exact = "n/a (embedded: the node's own memory)";
    if (o.stores === 'real') {
      const { doc, client } = createDynamoClients({ endpoint: nodes.env.DYNAMODB_ENDPOINT!, region: 'us-east-1' });
      const store = new DynamoPresenceStore({ doc, tablePrefix: nodes.env.DYNAMODB_TABLE_PREFIX!, timeoutMs: 1, ttlMs: 1 });
      const counts = await store.getCounts(venues.map((v) => v.id));
      const total = [...counts.values()].reduce((a, c) => a + c.count, 0);
      const expected = new Map<string, number>();
      for (const u of users) if (u.placed) expected.set(venues[u.venue]!.id, (expected.get(venues[u.venue]!.id) ?? 0) + 1);
      const wrong = venues.filter((v) => (counts.get(v.id)?.count ?? 0) !== (expected.get(v.id) ?? 0)).length;
      exact =
        wrong === 0
          ? `exact (${total} counted = ${users.filter((u) => u.placed).length} checked in)`
          : `**${wrong} venues wrong** (${total} counted)`;
      client.destroy();
    }
    return { label, code, saturated, half, exact };
  } finally {
    for (const u of users) u.socket.disconnect();
    await nodes.close();
  }
}

function withProfile(run: NodeRun): NodeRun {
  if (!args.profile) return run;
  const dir = resolve(args.profile, `${run.label.replace(/\W+/g, '-')}-${run.code}`);
  return existsSync(dir) ? { ...run, profile: topCosts(dir) } : run;
}

/** The code before this work, unpacked once next to the tree and run on this tree's node_modules. */
function baselineDir(): string {
  const dir = resolve('.cache', `baseline-${args['baseline-rev']}`);
  if (!existsSync(join(dir, 'server', 'main.ts'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', '--format=tar', args['baseline-rev']], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  }
  // The generated Prisma client and the built web pages are not in git. The client is generated from the
  // baseline's own schema: ours has columns its migrations never made.
  if (!existsSync(join(dir, 'server/generated/.baseline-own')) && existsSync(join(dir, 'scripts/prisma-generate.mjs'))) {
    execFileSync(process.execPath, ['scripts/prisma-generate.mjs', '--force'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(dir, 'server/generated/.baseline-own'), '');
  }
  if (!existsSync(join(dir, 'server/generated'))) cpSync(resolve('server/generated'), join(dir, 'server/generated'), { recursive: true });
  if (existsSync(resolve('web/dist'))) cpSync(resolve('web/dist'), join(dir, 'web/dist'), { recursive: true });
  return dir;
}

const f1 = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

function row(r: NodeRun): string {
  const per = (g: string, p: PhaseResult) => (p.ok ? `${f1(((p.cpu.get(g as never) ?? 0) / p.ok) * 1000)}` : '—');
  const cpuSat = CPU_GROUPS.filter((g) => g !== 'other')
    .map((g) => per(g, r.saturated))
    .join(' / ');
  const cpuHalf = CPU_GROUPS.filter((g) => g !== 'other')
    .map((g) => per(g, r.half))
    .join(' / ');
  const dyn = (p: PhaseResult) => (p.ok ? (p.dynamoRequests / p.ok).toFixed(2) : '—');
  const errs = [...r.saturated.errors, ...r.half.errors].map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
  return (
    `| ${r.label} | ${r.code} | **${r.saturated.rate.toFixed(0)}/s** | ${f1(r.saturated.ack.percentile(50))} / ${f1(r.saturated.ack.percentile(99))} ms | ` +
    `${Math.round(r.saturated.rate / 2)}/s → ${r.half.rate.toFixed(0)}/s | **${f1(r.half.ack.percentile(50))} / ${f1(r.half.ack.percentile(99))} ms** | ${cpuSat} | ${cpuHalf} | ${dyn(r.saturated)} / ${dyn(r.half)} | ${errs} | ${r.exact} |`
  );
}

function commands(r: NodeRun): string {
  const per = [...r.saturated.byCommand]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${(n / Math.max(1, r.saturated.ok)).toFixed(2)}`);
  const batch = Number.isFinite(r.saturated.batchSize)
    ? `; membership changes per TransactWriteItems: ${r.saturated.batchSize.toFixed(1)} saturated, ${r.half.batchSize.toFixed(1)} at 50 %` +
      `; wait before the transaction is sent (the window's cost to the ack) at 50 %: mean ${r.half.waitMeanMs.toFixed(1)} ms, ${(r.half.waitUnder5ms * 100).toFixed(0)} % ≤ 5 ms (saturated: mean ${r.saturated.waitMeanMs.toFixed(1)} ms, queueing for a free slot included)`
    : '';
  return `- ${r.label}, ${r.code}: DynamoDB requests per check-in at saturation by command: ${per.join(', ') || 'none'}${batch}`;
}

function profileLines(runs: NodeRun[]): string[] {
  const withP = runs.filter((r) => r.profile);
  if (withP.length === 0) return [];
  const lines = ['', "### Where the nodes' busy time went (`node --cpu-prof`, self time over the whole run, all nodes)", ''];
  for (const r of withP) {
    const p = r.profile!;
    const n = r.saturated.ok + r.half.ok;
    lines.push(
      `- ${r.label}, ${r.code} (${f1(p.total / 1000)} s busy, ${f1(p.total / Math.max(1, n))} ms per measured check-in): ` +
        p.rows.map((x) => `${x.group} ${((x.ms / p.total) * 100).toFixed(0)}%`).join(', '),
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const lines: string[] = [
    '## Check-in capacity (issue 13)',
    '',
    `Run ${new Date().toISOString()} with \`npm run bench -- capacity\` (${SECONDS} s per phase, ${USERS} users, ${args.venues} venues; every check-in is a move, so two counts change).` +
      ` Baseline = the code before this work (${args['baseline-rev']}), run in the same invocation on the same stores. The box (2 cores) runs the nodes, DynamoDB Local, PostgreSQL, Redis and the load client together.`,
    '',
  ];
  if (!skip.has('ceiling')) {
    log('(a) store ceiling');
    lines.push(...(await storeCeiling()), '');
  }
  const runs: NodeRun[] = [];
  const plans: { key: string; label: string; nodes: number; stores: 'real' | 'embedded' }[] = [
    { key: 'one', label: '1 node, real stores', nodes: 1, stores: 'real' },
    { key: 'three', label: '3 nodes, real stores', nodes: 3, stores: 'real' },
    { key: 'embedded', label: 'embedded node', nodes: 1, stores: 'embedded' },
  ];
  const base = skip.has('baseline') ? undefined : baselineDir();
  for (const p of plans) {
    if (skip.has(p.key)) continue;
    log(`(${p.stores === 'embedded' ? 'c' : 'b'}) ${p.label}`);
    runs.push(withProfile(await nodeRun(p.label, 'TreatMe', p)));
    if (base) runs.push(withProfile(await nodeRun(p.label, 'baseline', { ...p, cwd: base })));
  }
  if (runs.length > 0) {
    const groups = CPU_GROUPS.filter((g) => g !== 'other').join(' / ');
    lines.push(
      '### (b) nodes on the real stores and (c) the embedded node, each beside (d) the baseline',
      '',
      `Closed loop: ${USERS} users each check in again as soon as answered. Then open loop at half that rate. CPU ms per check-in by process group (${groups}) from /proc; DynamoDB requests per check-in from the nodes' treatme_dynamodb_requests_total, background work (sweeps, resyncs, reconciles) included.`,
      '',
      `| setup | code | check-ins/s held (closed loop) | ack p50 / p99 there | open loop at 50 % | ack p50 / p99 at 50 % | CPU ms per check-in at saturation (${groups}) | same at 50 % | DynamoDB requests per check-in (saturated / 50 %) | errors | counts afterwards |`,
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...runs.map(row),
      '',
      ...runs.map(commands),
      ...profileLines(runs),
    );
  }
  writeSection('capacity', lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
