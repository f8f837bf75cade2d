/**
 * The load-testing issue's benchmarks, each figure beside a baseline measured in the same run:
 *
 *  1. check-in → map viewer on another node, p50/p90/p99, swept over check-in rates across 3 nodes
 *     (baseline: the naive server, COUNT_COALESCE_MS=0, broadcasting every change);
 *  2. the same Friday-night replay against the coalescing, lease-heartbeat server and the naive one
 *     (broadcast every change, write every heartbeat): messages delivered, DynamoDB writes, CPU.
 *
 * Writes bench/results/loadtest.md. Sizes default to what a busy 2-core box does in a few minutes.
 *
 *   npx tsx bench/loadtest-bench.ts [--rates 50,100,250,500,1000] [--step-seconds 10] [--latency-users 1000]
 *                                   [--users 1000] [--speed 20] [--skip latency,replay]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { scrapeNode } from '../loadtest/node-metrics';
import type { NodeSample } from '../loadtest/recorder';
import { nodeFigures, spread } from '../loadtest/report';
import { runLoadtest } from '../loadtest/run';
import { checkinSweep, type StepResult } from './lib/cross-node-latency';
import { CPU_GROUPS } from './lib/proc-cpu';

const { values: args } = parseArgs({
  options: {
    rates: { type: 'string', default: '50,100,250,500,1000' },
    'step-seconds': { type: 'string', default: '10' },
    'latency-users': { type: 'string', default: '1000' },
    users: { type: 'string', default: '1000' },
    speed: { type: 'string', default: '20' },
    venues: { type: 'string', default: '50' },
    minutes: { type: 'string', default: '20' },
    orders: { type: 'boolean', default: false },
    summary: { type: 'boolean', default: false },
    'max-duration': { type: 'string', default: '600' },
    title: { type: 'string', default: '# Load-tester benchmarks' },
    out: { type: 'string', default: 'bench/results/loadtest.md' },
    skip: { type: 'string', default: '' },
  },
});
const skip = new Set(args.skip.split(',').filter(Boolean));
const CENTER = { lat: 40.7128, lng: -74.006 };
const log = (m: string) => process.stderr.write(`${m}\n`);
const NAIVE_COUNTS = { COUNT_COALESCE_MS: '0' };
const NAIVE_REPLAY = { COUNT_COALESCE_MS: '0', PRESENCE_HEARTBEAT_WRITES: 'every' };

const ms = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;
const errorsText = (e: Map<string, number>) => (e.size === 0 ? 'none' : [...e].map(([c, n]) => `${c} ${n}`).join(', '));

/** One row per rate, the coalescing server's figure beside the naive one's. */
function latencyTable(co: StepResult[], na: StepResult[]): string[] {
  const rows = co.map((a, i) => {
    const b = na[i];
    const cell = (f: (r: StepResult) => string) => `${f(a)} / ${b ? f(b) : '—'}`;
    return (
      `| ${a.targetRate}/s | ${cell((r) => `${r.achievedRate.toFixed(0)}/s`)} | ${cell((r) => ms(r.matched.firstOther.percentile(50)))} | ${cell((r) => ms(r.matched.firstOther.percentile(90)))} | ` +
      `${cell((r) => `**${ms(r.matched.firstOther.percentile(99))}**`)} | ${cell((r) => ms(r.matched.everyOther.percentile(99)))} | ${cell((r) => ms(r.ack.percentile(50)))} | ${cell((r) => ms(r.ack.percentile(99)))} | ` +
      `${cell((r) => `${r.matched.firstOther.count}/${r.ok}`)} | ${cell((r) => errorsText(r.errors))} |`
    );
  });
  const load = [...co.map((r) => ['TreatMe', r] as const), ...na.map((r) => ['naive', r] as const)].map(([server, r]) => {
    const cpu = CPU_GROUPS.map((g) => (r.cpu.get(g) ?? 0).toFixed(1)).join(' | ');
    const perCheckIn = r.ok ? `${(r.dynamoWrites / r.ok).toFixed(1)} w + ${(r.dynamoReads / r.ok).toFixed(1)} r` : '—';
    return `| ${server} | ${r.targetRate}/s | ${r.sent} | ${r.unplaced} | ${r.delivered} | ${r.broadcasts} | ${cpu} | ${(r.boxBusy * 100).toFixed(0)}% | ${perCheckIn} |`;
  });
  return [
    '| target | achieved (ok acks/s) | send→viewer p50 | p90 | p99 (goal 50 ms) | p99, slower other node | send→ack p50 | send→ack p99 | matched/ok | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Where the time goes, per step (CPU seconds from /proc over the step and its drain; "other" is everything else on the shared box):',
    '',
    `| server | target | sent | not placed (every user busy) | venue:count to the 3 observers | count broadcasts | ${CPU_GROUPS.map((g) => `CPU ${g}`).join(' | ')} | whole box busy | DynamoDB requests per check-in |`,
    `|---|---|---|---|---|---|${CPU_GROUPS.map(() => '---|').join('')}---|---|`,
    ...load,
  ];
}

/** Steps where something outside this run took over a second of CPU: their figures are depressed by it. */
const OTHER_CPU_NOTICE_S = 1;

/** What the sweep says in words: the highest rate held, the ceiling, and the CPU a check-in costs. */
function latencyFindings(name: string, steps: StepResult[]): string {
  const held = steps.filter((r) => r.unplaced === 0 && r.errors.size === 0 && r.achievedRate >= 0.9 * r.targetRate);
  const best = held[held.length - 1];
  const ceiling = Math.max(...steps.map((r) => r.achievedRate));
  const first = steps[0];
  const perCheckIn = (r: StepResult, g: 'server nodes' | 'DynamoDB Local' | 'PostgreSQL') =>
    r.ok ? `${(((r.cpu.get(g) ?? 0) / r.ok) * 1000).toFixed(1)} ms` : '—';
  const noisy = steps.filter((r) => (r.cpu.get('other') ?? 0) > OTHER_CPU_NOTICE_S).map((r) => `${r.targetRate}/s`);
  return (
    `${name}: ${best ? `held ${best.targetRate}/s (send→viewer p50 ${ms(best.matched.firstOther.percentile(50))}, p99 ${ms(best.matched.firstOther.percentile(99))})` : 'held none of the rates'}; ` +
    `most answered in any step ${ceiling.toFixed(0)}/s — above that the offered load queues and latency is queueing time.` +
    (first
      ? ` CPU per check-in at ${first.targetRate}/s: server nodes ${perCheckIn(first, 'server nodes')}, DynamoDB Local ${perCheckIn(first, 'DynamoDB Local')}, PostgreSQL ${perCheckIn(first, 'PostgreSQL')} (including each step's background work).`
      : '') +
    (noisy.length
      ? ` Other processes on the shared box took over ${OTHER_CPU_NOTICE_S} s of CPU during ${noisy.join(', ')}; those steps are depressed by it.`
      : '')
  );
}

/** The figures one replay's nodes report, read from /metrics just before they stop. */
interface ReplayCounters {
  dynamoWrites: number;
  dynamoReads: number;
}

async function main(): Promise<void> {
  const lines: string[] = [
    args.title,
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; the machine was shared with other test runs, so absolute figures are pessimistic — compare each figure with its baseline beside it.`,
    '',
  ];
  if (!skip.has('latency')) {
    const rates = args.rates
      .split(',')
      .map(Number)
      .filter((r) => r > 0);
    const stepSeconds = Number(args['step-seconds']);
    const users = Number(args['latency-users']);
    const sweep = { rates, stepSeconds, users, venues: 50, center: CENTER, log };
    log(`latency: ${rates.join(', ')} check-ins/s, ${stepSeconds} s each, over 3 nodes; coalescing then naive`);
    const co = await checkinSweep({ ...sweep, env: {} });
    const na = await checkinSweep({ ...sweep, env: NAIVE_COUNTS });
    lines.push(
      `## Check-in → map viewer on another node (3 nodes, real stores, ${rates.join(' / ')} check-ins/s for ${stepSeconds} s each)`,
      '',
      `${users} signed-in users spread over 3 nodes, 50 venues, one anonymous map viewer per node watching all of them. Each user checks in to another venue` +
        ` only after its previous check-in was answered (at most 10/s, under the server's 20 events/s per socket), so every check-in changes two counts.` +
        " Every observer receipt and every ack is logged; afterwards each ack is matched to the earliest receipt on a node other than the sender's whose version covers the ack's" +
        " (the ack's version is read after the write and may include later check-ins, so a sample can only err long)." +
        ' Cells: coalescing (COUNT_COALESCE_MS=250) / naive baseline (COUNT_COALESCE_MS=0, broadcast on every change). The steps run one after another on the same cluster.',
      '',
      ...latencyTable(co, na),
      '',
      `- ${latencyFindings('TreatMe', co)}`,
      `- ${latencyFindings('Naive', na)}`,
      `- Viewer on another node vs the sender's ack, median per check-in of (receipt − ack), per step: TreatMe ${co.map((r) => ms(r.matched.viewerMinusAck.percentile(50))).join(', ')}; naive ${na.map((r) => ms(r.matched.viewerMinusAck.percentile(50))).join(', ')}.` +
        " Near zero (or negative: the viewer heard first) means the time goes into the check-in itself — the store's read, transaction and counter read on a CPU-bound box — not into reaching the other nodes.",
      '',
    );
  }

  if (!skip.has('replay')) {
    const users = Number(args.users);
    const speed = Number(args.speed);
    const venues = Number(args.venues);
    const minutes = Number(args.minutes);
    const common = {
      users,
      venues,
      speed,
      durationMs: minutes * 60_000,
      seed: 7,
      quiescePoints: minutes >= 120 ? 4 : 2,
      nodes: 3,
      stores: 'real' as const,
      orders: args.orders,
      maxClients: users + 500,
      maxDurationMs: Number(args['max-duration']) * 1000,
      progress: false,
      log,
    };
    const counters = (into: ReplayCounters) => async (nodes: { urls: string[] } | undefined) => {
      const samples = await Promise.all((nodes?.urls ?? []).map((u, i) => scrapeNode(u, `node${i}`, 0)));
      const ok = samples.filter((x): x is NodeSample => x !== null);
      if (ok.length !== samples.length) log('replay: a node did not answer /metrics before stop; its DynamoDB requests are missing');
      into.dynamoWrites = ok.reduce((a, x) => a + x.dynamoWrites, 0);
      into.dynamoReads = ok.reduce((a, x) => a + x.dynamoReads, 0);
    };
    log(`replay: ${users} users, ${venues} venues, ${minutes} min of night at ${speed}×, coalescing+lease then naive`);
    const coCounters: ReplayCounters = { dynamoWrites: 0, dynamoReads: 0 };
    const naCounters: ReplayCounters = { dynamoWrites: 0, dynamoReads: 0 };
    const co = await runLoadtest({ ...common, beforeStop: counters(coCounters) });
    log(co.summary);
    const na = await runLoadtest({ ...common, nodeEnv: NAIVE_REPLAY, beforeStop: counters(naCounters) });
    log(na.summary);
    const fig = (o: typeof co, c: ReplayCounters) => {
      const nodes = nodeFigures(o.result.recorder.nodeSamples);
      const msgs = spread(o.result.recorder.messagesPerUser).total + spread(o.result.recorder.messagesPerViewer).total;
      return {
        pass: o.verdict.pass ? 'pass' : `FAIL (${o.verdict.problems.length})`,
        problems: o.verdict.problems,
        msgs,
        viewerMsgs: spread(o.result.recorder.messagesPerViewer).total,
        broadcasts: nodes.reduce((a, n) => a + n.broadcasts, 0),
        cpu: nodes.reduce((a, n) => a + n.cpuSeconds, 0),
        heap: Math.max(...nodes.map((n) => n.peakHeapMb)),
        p99: o.result.recorder.hist('check-in → viewer on another node').percentile(99),
        lagP99: o.result.recorder.lag.percentile(99),
        ...c,
      };
    };
    const a = fig(co, coCounters);
    const b = fig(na, naCounters);
    const x = (base: number, ours: number) => (ours > 0 ? `${(base / ours).toFixed(1)}×` : '—');
    lines.push(
      `## The same Friday-night replay, coalescing vs naive (${users} users, ${venues} venues, ${minutes} min of night at ${speed}×, 3 nodes${args.orders ? ', orders' : ''})`,
      '',
      'TreatMe = COUNT_COALESCE_MS=250, PRESENCE_HEARTBEAT_WRITES=lease. Naive = COUNT_COALESCE_MS=0 (broadcast on every change) and PRESENCE_HEARTBEAT_WRITES=every' +
        ' (each heartbeat writes the stored expiry). DynamoDB requests are counted by each node (treatme_dynamodb_requests_total) and read from its /metrics just before it stops.',
      '',
      '| figure | TreatMe | naive baseline | naive / TreatMe |',
      '|---|---|---|---|',
      `| judge | ${a.pass} | ${b.pass} | |`,
      `| messages delivered to clients | ${a.msgs} | ${b.msgs} | ${x(b.msgs, a.msgs)} |`,
      `| of which to map viewers | ${a.viewerMsgs} | ${b.viewerMsgs} | ${x(b.viewerMsgs, a.viewerMsgs)} |`,
      `| count broadcasts (all nodes) | ${a.broadcasts} | ${b.broadcasts} | ${x(b.broadcasts, a.broadcasts)} |`,
      `| DynamoDB writes (all nodes) | ${a.dynamoWrites} | ${b.dynamoWrites} | ${x(b.dynamoWrites, a.dynamoWrites)} |`,
      `| DynamoDB reads (all nodes) | ${a.dynamoReads} | ${b.dynamoReads} | ${x(b.dynamoReads, a.dynamoReads)} |`,
      `| server CPU (all nodes) | ${a.cpu.toFixed(1)} s | ${b.cpu.toFixed(1)} s | ${x(b.cpu, a.cpu)} |`,
      `| peak heap (largest node) | ${a.heap.toFixed(0)} MB | ${b.heap.toFixed(0)} MB | |`,
      `| check-in → viewer on another node p99 | ${a.p99.toFixed(0)} ms | ${b.p99.toFixed(0)} ms | |`,
      `| replayer behind schedule p99 | ${a.lagP99.toFixed(0)} ms | ${b.lagP99.toFixed(0)} ms | |`,
      '',
      ...[...a.problems.map((p) => `TreatMe judge: ${p}`), ...b.problems.map((p) => `Naive judge: ${p}`)].map((p) => `- ${p}`),
      '',
      "Reading the table: at this replay's density a venue changes on average well under once per 250 ms, so the coalescing window has little to merge," +
        ' and count broadcasts and viewer messages do not separate the two servers — the naive server, slowed by its heartbeat writes, even merges changes' +
        ' itself (check-ins in flight at one venue share the counter read that follows their writes). venue:people lists share COUNT_COALESCE_MS.' +
        " What separates them is DynamoDB writes and server CPU: every heartbeat reaches the store and writes the expiry, where TreatMe answers it from the node's memory.",
      '',
    );
    if (co.result.aborted || na.result.aborted) {
      lines.push(
        `Bounded runs: the replays stopped at --max-duration after ${((co.result.events / co.trace.events.length) * 100).toFixed(0)}% (TreatMe) and` +
          ` ${((na.result.events / na.trace.events.length) * 100).toFixed(0)}% (naive) of the night's events, so the totals above cover different stretches of` +
          " the night and are not comparable as they stand; the judged quiesce points and the replayer's lag are. A box that falls this far behind the" +
          ' schedule is too small for this speed: the figures say so rather than a judge verdict on the server.',
        '',
      );
    }
    if (args.summary) lines.push('TreatMe run, as `npm run loadtest` prints it:', '', '```', co.summary, '```', '');
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(args.out, `${lines.join('\n')}\n`);
  log(`wrote ${args.out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
