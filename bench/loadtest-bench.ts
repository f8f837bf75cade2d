/**
 * The load-testing issue's benchmarks, each figure beside a baseline measured in the same run:
 *
 *  1. sockets one node holds and heap per socket (baseline: the same node idle);
 *  2. check-in → map viewer on another node, p50/p99, at a target check-in rate across 3 nodes
 *     (baseline: the naive server, COUNT_COALESCE_MS=0, broadcasting every change);
 *  3. the same Friday-night replay against the coalescing and the naive server: messages delivered,
 *     count broadcasts, CPU.
 *
 * Writes bench/results/loadtest.md. Sizes default to what a busy 2-core box does in about a minute each.
 *
 *   npx tsx bench/loadtest-bench.ts [--sockets 5000] [--rate 200] [--seconds 20] [--users 1000] [--speed 20]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { AccessTokens } from '../server/auth/access-tokens';
import { venuesFromDatabase } from '../loadtest/city';
import { Histogram } from '../loadtest/histogram';
import { scrapeNode } from '../loadtest/node-metrics';
import { startNodes } from '../loadtest/nodes';
import { nodeFigures, spread } from '../loadtest/report';
import { runLoadtest } from '../loadtest/run';
import type { TraceVenue } from '../protocol/trace';
import type { VenueCount } from '../protocol/events';

const { values: args } = parseArgs({
  options: {
    sockets: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    users: { type: 'string', default: '1000' },
    speed: { type: 'string', default: '20' },
    out: { type: 'string', default: 'bench/results/loadtest.md' },
    skip: { type: 'string', default: '' },
  },
});
const skip = new Set(args.skip.split(',').filter(Boolean));
const CENTER = { lat: 40.7128, lng: -74.006 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`${m}\n`);

async function connectAll(url: string, tokens: (string | undefined)[], concurrency = 50): Promise<Socket[]> {
  const out: Socket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++];
        const s = io(url, { auth: token ? { token } : {}, transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000 });
        await new Promise<void>((res, rej) => {
          s.once('connect', () => res());
          s.once('connect_error', rej);
        });
        out.push(s);
      }
    }),
  );
  return out;
}

async function settledHeap(url: string): Promise<{ heap: number; rss: number }> {
  // No forced GC from outside: take the lowest of several samples as the live heap.
  let heap = Infinity;
  let rss = Infinity;
  for (let i = 0; i < 6; i++) {
    await sleep(1_000);
    const s = await scrapeNode(url, 'n', 0);
    if (s) {
      heap = Math.min(heap, s.heapUsedBytes);
      rss = Math.min(rss, s.rssBytes);
    }
  }
  return { heap, rss };
}

/** 1. One node, K authenticated sockets (a phone's socket: user room joined, presence restore checked). */
async function socketsPerNode(k: number): Promise<string[]> {
  log(`sockets: one embedded node, ${k} authenticated sockets`);
  let tokens: string[] = [];
  const nodes = await startNodes({
    nodes: 1,
    stores: 'embedded',
    venues: 12,
    center: CENTER,
    env: { NODE_OPTIONS: '--max-old-space-size=2048' },
    prepare: async (prisma, secret) => {
      const emails = Array.from({ length: k }, (_, i) => `bench-${i}@loadtest.treatme.dev`);
      for (let i = 0; i < k; i += 1_000) await prisma.user.createMany({ data: emails.slice(i, i + 1_000).map((email) => ({ email, displayName: 'Bench' })), skipDuplicates: true });
      const rows = await prisma.user.findMany({ where: { email: { in: emails } }, select: { id: true } });
      const t = new AccessTokens(secret, 3_600);
      tokens = rows.map((r) => t.sign(r.id));
    },
  });
  try {
    const url = nodes.urls[0]!;
    const idle = await settledHeap(url);
    const started = Date.now();
    const sockets = await connectAll(url, tokens);
    const connectS = (Date.now() - started) / 1000;
    const loaded = await settledHeap(url);
    const perSocketKb = (loaded.heap - idle.heap) / sockets.length / 1024;
    const rssPerSocketKb = (loaded.rss - idle.rss) / sockets.length / 1024;
    for (const s of sockets) s.disconnect();
    const extrapolated = (50_000 * (loaded.heap - idle.heap)) / sockets.length / 1e6 + idle.heap / 1e6;
    return [
      '## Connected sockets and heap per socket (one node, embedded)',
      '',
      '| figure | idle node (baseline) | with sockets |',
      '|---|---|---|',
      `| sockets held | 0 | ${sockets.length} (connected in ${connectS.toFixed(1)} s) |`,
      `| heap used | ${(idle.heap / 1e6).toFixed(1)} MB | ${(loaded.heap / 1e6).toFixed(1)} MB |`,
      `| resident memory | ${(idle.rss / 1e6).toFixed(1)} MB | ${(loaded.rss / 1e6).toFixed(1)} MB |`,
      `| heap per socket | — | **${perSocketKb.toFixed(2)} KB** (goal ≤ 5 KB) |`,
      `| RSS per socket | — | ${rssPerSocketKb.toFixed(2)} KB |`,
      '',
      `Measured at ${sockets.length} sockets (the box's budget), not 50,000. Linear extrapolation to 50,000: heap ≈ ${extrapolated.toFixed(0)} MB` +
        ' — an estimate from the per-socket slope, not a measurement; the file-descriptor limit and the client side were not exercised at that size.',
      '',
    ];
  } finally {
    await nodes.close();
  }
}

/** 2. Check-ins at a fixed rate over 3 nodes; an observer per node; latency to a viewer on another node. */
async function crossNodeLatency(rate: number, seconds: number, naive: boolean): Promise<{ hist: Histogram; sent: number; delivered: number; cpu: number; broadcasts: number }> {
  const users = Math.max(50, Math.ceil(rate / 2));
  let venues: TraceVenue[] = [];
  let tokens: string[] = [];
  const nodes = await startNodes({
    nodes: 3,
    stores: 'real',
    venues: 50,
    center: CENTER,
    env: { PRESENCE_TIMEOUT_SECONDS: '600', SWEEP_INTERVAL_MS: '1000', ...(naive ? { COUNT_COALESCE_MS: '0' } : {}) },
    prepare: async (prisma, secret) => {
      venues = await venuesFromDatabase(prisma, CENTER, 50);
      const emails = Array.from({ length: users }, (_, i) => `lat-${i}@loadtest.treatme.dev`);
      await prisma.user.createMany({ data: emails.map((email) => ({ email, displayName: 'Lat' })), skipDuplicates: true });
      const rows = await prisma.user.findMany({ where: { email: { in: emails } }, select: { id: true } });
      const t = new AccessTokens(secret, 3_600);
      tokens = rows.map((r) => t.sign(r.id));
    },
  });
  try {
    const hist = new Histogram();
    const pending = new Map<string, { version: number; at: number; node: number }[]>();
    let delivered = 0;
    const observers = await Promise.all(nodes.urls.map((u) => connectAll(u, [undefined]).then((s) => s[0]!)));
    observers.forEach((s, node) => {
      s.on('venue:count', (c: VenueCount) => {
        delivered++;
        const list = pending.get(c.venueId) ?? [];
        const keep = list.filter((p) => {
          if (p.version <= c.version && p.node !== node) {
            hist.add(Date.now() - p.at);
            return false;
          }
          return true;
        });
        pending.set(c.venueId, keep);
      });
    });
    await Promise.all(observers.map((s) => new Promise((r) => s.timeout(30_000).emit('venue:watch', { venueIds: venues.map((v) => v.id) }, r))));
    const clients = (await Promise.all(nodes.urls.map((u, i) => connectAll(u, tokens.filter((_, k) => k % 3 === i))))).flat();
    const nodeOf = (k: number) => k % 3;
    const cpu0 = await Promise.all(nodes.urls.map((u) => scrapeNode(u, 'n', 0)));
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < seconds * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate);
      while (sent < due) {
        const k = sent % clients.length;
        const v = venues[(sent * 7 + k) % venues.length]!;
        const at = Date.now();
        const socket = clients[k]!;
        socket.timeout(30_000).emit('presence:checkin', { venueId: v.id, lat: v.lat, lng: v.lng }, (err: Error | null, ack: { ok: boolean; data?: { count: VenueCount } }) => {
          if (err || !ack.ok || !ack.data) return;
          const list = pending.get(v.id) ?? [];
          list.push({ version: ack.data.count.version, at, node: nodeOf(k) });
          pending.set(v.id, list);
        });
        sent++;
      }
      await sleep(5);
    }
    await sleep(2_000);
    const cpu1 = await Promise.all(nodes.urls.map((u) => scrapeNode(u, 'n', 0)));
    const cpu = cpu1.reduce((a, s, i) => a + (s?.cpuSeconds ?? 0) - (cpu0[i]?.cpuSeconds ?? 0), 0);
    const broadcasts = cpu1.reduce((a, s, i) => a + (s?.broadcasts ?? 0) - (cpu0[i]?.broadcasts ?? 0), 0);
    for (const s of [...clients, ...observers]) s.disconnect();
    return { hist, sent, delivered, cpu, broadcasts };
  } finally {
    await nodes.close();
  }
}

async function main(): Promise<void> {
  const lines: string[] = [
    '# Load-tester benchmarks',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; the machine was shared with other test runs, so absolute figures are pessimistic — compare each figure with its baseline beside it.`,
    '',
  ];
  if (!skip.has('sockets')) lines.push(...(await socketsPerNode(Number(args.sockets))));

  if (!skip.has('latency')) {
    const rate = Number(args.rate);
    const seconds = Number(args.seconds);
    log(`latency: ${rate} check-ins/s for ${seconds} s over 3 nodes, coalescing then naive`);
    const co = await crossNodeLatency(rate, seconds, false);
    const na = await crossNodeLatency(rate, seconds, true);
    const row = (name: string, f: (r: typeof co) => string) => `| ${name} | ${f(co)} | ${f(na)} |`;
    lines.push(
      `## Check-in → map viewer on another node (3 nodes, real stores, ${rate} check-ins/s for ${seconds} s)`,
      '',
      `Target rate ${rate}/s, not the issue's 1,000/s: this 2-core box also runs DynamoDB Local, PostgreSQL, Redis and the clients.`,
      '',
      '| figure | coalescing (COUNT_COALESCE_MS=250) | naive baseline (COUNT_COALESCE_MS=0) |',
      '|---|---|---|',
      row('check-ins sent', (r) => String(r.sent)),
      row('latency samples', (r) => String(r.hist.count)),
      row('p50', (r) => `${r.hist.percentile(50).toFixed(1)} ms`),
      row('p99', (r) => `**${r.hist.percentile(99).toFixed(1)} ms** (goal 50 ms)`),
      row('venue:count messages to the 3 observers', (r) => String(r.delivered)),
      row('count broadcasts (all nodes)', (r) => String(r.broadcasts)),
      row('server CPU (all nodes)', (r) => `${r.cpu.toFixed(1)} s`),
      '',
    );
  }

  if (!skip.has('replay')) {
    const users = Number(args.users);
    const speed = Number(args.speed);
    const common = { users, venues: 50, speed, durationMs: 20 * 60_000, seed: 7, quiescePoints: 2, nodes: 3, stores: 'real' as const, orders: false, maxClients: users + 100, maxDurationMs: 600_000, progress: false, log };
    log(`replay: ${users} users, 20 min of night at ${speed}×, coalescing then naive`);
    const co = await runLoadtest({ ...common });
    const na = await runLoadtest({ ...common, nodeEnv: { COUNT_COALESCE_MS: '0' } });
    const fig = (o: typeof co) => {
      const nodes = nodeFigures(o.result.recorder.nodeSamples);
      const msgs = spread(o.result.recorder.messagesPerUser).total + spread(o.result.recorder.messagesPerViewer).total;
      return {
        pass: o.verdict.pass ? 'pass' : `FAIL (${o.verdict.problems.length})`,
        msgs,
        viewerMsgs: spread(o.result.recorder.messagesPerViewer).total,
        broadcasts: nodes.reduce((a, n) => a + n.broadcasts, 0),
        cpu: nodes.reduce((a, n) => a + n.cpuSeconds, 0),
        heap: Math.max(...nodes.map((n) => n.peakHeapMb)),
        p99: o.result.recorder.hist('check-in → viewer on another node').percentile(99),
      };
    };
    const a = fig(co);
    const b = fig(na);
    lines.push(
      `## The same Friday-night replay, coalescing vs naive (${users} users, 50 venues, 20 min of night at ${speed}×, 3 nodes)`,
      '',
      '| figure | coalescing | naive baseline (broadcast every change) |',
      '|---|---|---|',
      `| judge | ${a.pass} | ${b.pass} |`,
      `| messages delivered to clients | ${a.msgs} | ${b.msgs} |`,
      `| of which to map viewers | ${a.viewerMsgs} | ${b.viewerMsgs} |`,
      `| count broadcasts (all nodes) | ${a.broadcasts} | ${b.broadcasts} |`,
      `| server CPU (all nodes) | ${a.cpu.toFixed(1)} s | ${b.cpu.toFixed(1)} s |`,
      `| peak heap (largest node) | ${a.heap.toFixed(0)} MB | ${b.heap.toFixed(0)} MB |`,
      `| check-in → viewer on another node p99 | ${a.p99.toFixed(0)} ms | ${b.p99.toFixed(0)} ms |`,
      `| DynamoDB writes | not measured | not measured |`,
      '',
      'DynamoDB writes are not measured: the server exposes no store-write counter and has no "write on every heartbeat" switch, so a naive-heartbeat baseline would have to be invented rather than measured.',
      '',
    );
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
