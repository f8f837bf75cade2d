import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseTraceLines, traceToLines, type Trace, type TraceVenue } from '../protocol/trace';
import { freePort } from '../scripts/lib/dynamo-local';
import { chaosMoments, chaosText, startPrivateRedis, type ChaosOptions, type PrivateRedis } from './chaos';
import { fetchVenues, venuesFromDatabase } from './city';
import { dynamoStays, explainDifferences, serverStays } from './diagnose';
import { generateTrace } from './generator';
import { htmlReport } from './html-report';
import { judgeMoney, judgeQuiescePoint, verdictOf, type OrderRow, type QuiesceVerdict, type Verdict } from './judge';
import { watchNodes } from './node-metrics';
import { startNodes, type StartedNodes } from './nodes';
import type { ServerTimings } from './presence-model';
import { Progress } from './progress';
import { provisionDirect, provisionViaHttp, type Identities } from './provision';
import { Recorder } from './recorder';
import { replay, type ReplayResult } from './replayer';
import { summaryText } from './report';

export interface LoadtestOptions {
  users: number;
  venues: number;
  speed: number;
  /** Night length in trace time (default 6 h: 21:00 → 03:00). */
  durationMs?: number;
  viewers?: number;
  seed: number;
  quiescePoints?: number;
  /** Existing servers; none → this tool starts `nodes` itself. */
  urls?: string[];
  nodes: number;
  stores: 'embedded' | 'real';
  orders: boolean;
  maxClients: number;
  maxDurationMs: number;
  allowRemote?: boolean;
  center?: { lat: number; lng: number };
  /** Read this trace instead of generating one. */
  traceIn?: string;
  /** Write the generated trace here. */
  traceOut?: string;
  htmlOut?: string;
  /** Extra environment for nodes this tool starts (e.g. COUNT_COALESCE_MS=0 for the naive baseline). */
  nodeEnv?: Record<string, string>;
  /** Presence timings of servers given by URL (this tool sets its own nodes'). */
  serverTimeoutSeconds?: number;
  serverGraceSeconds?: number;
  postgresUrl?: string;
  redisUrl?: string;
  dynamoEndpoint?: string;
  progress?: boolean;
  log?: (line: string) => void;
  /**
   * `--chaos`: SIGKILL one node mid-night (restarted after the survivors have ended its stays) and kill
   * and restart Redis later (a private redis-server of this run's own); the judge must find every count
   * exact after each recovery window. Needs nodes this tool starts, at least two, on real stores.
   */
  chaos?: boolean;
  /** Chaos: how long Redis stays down (real ms, default 5 s). */
  chaosRedisDownMs?: number;
  /** Called with the running nodes after the replay, before they stop (benchmarks read /metrics there). */
  beforeStop?: (nodes: StartedNodes | undefined, result: ReplayResult) => Promise<void>;
}

export interface LoadtestOutcome {
  verdict: Verdict;
  result: ReplayResult;
  trace: Trace;
  summary: string;
  html: string;
  nodeEnv: Record<string, string> | undefined;
  urls: string[];
}

/** The night cannot be judged exactly at the asked speed: said before anything starts. */
/** Options the tool cannot run as asked, said before anything starts (the CLI prints it, exit 2). */
export class LoadtestRefused extends Error {
  override name = 'LoadtestRefused';
}

export class SpeedRefused extends LoadtestRefused {
  override name = 'SpeedRefused';
}

const HEARTBEAT_MS = 30_000;
const TIMEOUT_MS = 600_000;
const GRACE_MS = 60_000;
// Timeouts are ended by the node holding the socket; the sweeper only ends grace periods and dead
// nodes' leases, so it need not poll the expiry index often.
const SWEEP_MS = 1_000;

/**
 * Presence timings for nodes this tool starts, squeezed by the speed-up so the night's rules hold in
 * compressed time (a 60 s grace at 60× is 1 s), within the server's minimums (timeout ≥ 5 s).
 */
export function nodeTimingEnv(speed: number, trace: { timeoutMs: number; graceMs: number }): Record<string, string> {
  return {
    PRESENCE_TIMEOUT_SECONDS: String(Math.max(5, Math.round(trace.timeoutMs / speed / 1000))),
    PRESENCE_GRACE_SECONDS: String(Math.max(1, Math.round(trace.graceMs / speed / 1000))),
    PRESENCE_LEASE_EXTRA_SECONDS: String(Math.max(1, Math.round(300 / speed))),
    PRESENCE_LEASE_REFRESH_SECONDS: String(Math.max(2, Math.round(90 / speed))),
    SWEEP_INTERVAL_MS: String(SWEEP_MS),
  };
}

/**
 * Why the nodes started here cannot play the night's rules exactly at `speed` (null when they can): the
 * server takes its timeout and grace period in whole seconds, the timeout no shorter than 5 s, so a
 * speed that would need 8.6 s or 0.5 s runs a different night than the one generated and judged.
 */
export function speedProblem(
  speed: number,
  trace: { timeoutMs: number; graceMs: number } = { timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS },
): string | null {
  const exact = (ms: number) => Math.abs(ms / speed / 1000 - Math.round(ms / speed / 1000)) < 1e-9;
  const timeoutS = trace.timeoutMs / speed / 1000;
  const graceS = trace.graceMs / speed / 1000;
  const problems: string[] = [];
  if (!exact(trace.timeoutMs))
    problems.push(`the ${trace.timeoutMs / 1000} s heartbeat timeout would be ${timeoutS.toFixed(3)} s, not a whole number of seconds`);
  else if (timeoutS < 5)
    problems.push(`the ${trace.timeoutMs / 1000} s heartbeat timeout would be ${timeoutS} s, under the server's 5 s minimum`);
  if (!exact(trace.graceMs))
    problems.push(`the ${trace.graceMs / 1000} s grace period would be ${graceS.toFixed(3)} s, not a whole number of seconds`);
  else if (graceS < 1) problems.push(`the ${trace.graceMs / 1000} s grace period would be under 1 s`);
  if (problems.length === 0) return null;
  return `--speed ${speed} cannot be judged exactly: ${problems.join('; ')}. The fastest speed that can is ${fastestExactSpeed(trace)}× (any speed that divides both into whole seconds, e.g. 1, 2, 5, 10, 20, 30).`;
}

/** The largest speed at which the timeout and grace are whole seconds (timeout ≥ 5 s, grace ≥ 1 s). */
export function fastestExactSpeed(trace: { timeoutMs: number; graceMs: number } = { timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS }): number {
  for (let graceS = 1; graceS <= trace.graceMs / 1000; graceS++) {
    const speed = trace.graceMs / 1000 / graceS;
    const timeoutS = trace.timeoutMs / speed / 1000;
    if (Number.isInteger(Math.round(timeoutS * 1e9) / 1e9) && timeoutS >= 5) return speed;
  }
  return 1;
}

export async function runLoadtest(o: LoadtestOptions): Promise<LoadtestOutcome> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!o.urls || o.urls.length === 0) {
    const problem = speedProblem(o.speed);
    if (problem) throw new SpeedRefused(problem);
  }
  if (o.chaos && ((o.urls?.length ?? 0) > 0 || o.nodes < 2 || o.stores !== 'real')) {
    throw new LoadtestRefused('--chaos kills nodes this tool starts: it needs no --url, --nodes 2 or more and --stores real');
  }
  const center = o.center ?? { lat: 40.7128, lng: -74.006 };
  const timingEnv = nodeTimingEnv(o.speed, { timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS });
  const env = { ...timingEnv, ...o.nodeEnv };
  const makeTrace = (venues: TraceVenue[]): Trace => {
    if (venues.length < o.venues) log(`the server has ${venues.length} venues near the centre; using those (asked for ${o.venues})`);
    if (o.traceIn) {
      const trace = parseTraceLines(readFileSync(o.traceIn, 'utf8'));
      const known = new Set(venues.map((v) => v.id));
      const bySlug = new Map(venues.map((v) => [v.slug, v]));
      // A trace recorded against another deployment names venues that exist here under the same slug.
      trace.header.venues = trace.header.venues.map((v) => (known.has(v.id) ? v : (bySlug.get(v.slug) ?? v)));
      return trace;
    }
    return generateTrace({
      seed: o.seed,
      users: o.users,
      venues,
      durationMs: o.durationMs,
      viewers: o.viewers,
      heartbeatMs: HEARTBEAT_MS,
      presenceTimeoutMs: TIMEOUT_MS,
      presenceGraceMs: GRACE_MS,
      quiescePoints: o.quiescePoints,
    });
  };
  let trace: Trace | undefined;
  let ids: Identities | undefined;
  let started: StartedNodes | undefined;
  const provisionStarted = Date.now();
  // Chaos restarts Redis: never the shared one other people's nodes and tests use.
  let privateRedis: PrivateRedis | undefined;
  if (o.chaos) {
    privateRedis = await startPrivateRedis(await freePort());
    log(`chaos: a private Redis at ${privateRedis.url}`);
  }
  if (!o.urls || o.urls.length === 0) {
    log(`starting ${o.nodes} node(s) with ${o.stores} stores…`);
    started = await startNodes({
      nodes: o.nodes,
      stores: o.stores,
      venues: o.venues,
      center,
      env,
      postgresUrl: o.postgresUrl,
      redisUrl: privateRedis?.url ?? o.redisUrl,
      dynamoEndpoint: o.dynamoEndpoint,
      log,
      // The city and the accounts go straight into the database before the nodes start: thousands of
      // dev-logins would measure the sign-in path, not the night.
      prepare: async (prisma, jwtSecret) => {
        trace = makeTrace(await venuesFromDatabase(prisma, center, o.venues));
        ids = await provisionDirect(prisma, trace.header, jwtSecret);
      },
    });
  }
  const urls = started?.urls ?? o.urls!;
  let chaos: ChaosOptions | undefined;
  if (o.chaos && started && privateRedis) {
    const redis = privateRedis;
    const nodes = started;
    const leaseMs = Number(env.NODE_LEASE_SECONDS ?? 10) * 1000;
    const moments = chaosMoments(o.durationMs ?? 6 * 3_600_000, o.quiescePoints ?? 4);
    chaos = {
      ...moments,
      node: 1,
      redisDownMs: o.chaosRedisDownMs ?? 5_000,
      leaseMs,
      reapWithinMs: leaseMs + 5_000,
      abandonEvery: 3,
      probeLimitMs: leaseMs + 5_000 + 45_000,
      kill: (i) => nodes.kill(i),
      restart: (i) => nodes.restart(i),
      redisKill: () => redis.kill(),
      redisStart: () => redis.start(),
    };
  }
  try {
    trace ??= makeTrace(await fetchVenues(urls[0]!, center, o.venues));
    ids ??= await provisionViaHttp(urls[0]!, trace.header);
    if (o.traceOut) {
      mkdirSync(dirname(o.traceOut), { recursive: true });
      writeFileSync(o.traceOut, traceToLines(trace));
      log(`trace written to ${o.traceOut}`);
    }
    log(`${ids.users.length} users ready in ${Date.now() - provisionStarted} ms; replaying ${trace.events.length} events at ${o.speed}×`);

    const timeoutS = started ? Number(env.PRESENCE_TIMEOUT_SECONDS) : (o.serverTimeoutSeconds ?? 600);
    const graceS = started ? Number(env.PRESENCE_GRACE_SECONDS) : (o.serverGraceSeconds ?? 60);
    const sweep = started ? Number(env.SWEEP_INTERVAL_MS ?? SWEEP_MS) : 5_000;
    const coalesce = Number(env.COUNT_COALESCE_MS ?? 250);
    const timings: ServerTimings = {
      timeoutMs: timeoutS * 1000,
      graceMs: graceS * 1000,
      ttlMs: Number(env.PRESENCE_TTL_SECONDS ?? 4 * 3600) * 1000,
      settleMs: 2 * Math.min(sweep, 5_000) + coalesce + 1_000,
      // A busy node notices a close only when its event loop gets to it, a second or more under load.
      closeLagMs: 2_000,
    };
    const rec = new Recorder();
    const watcher = watchNodes(urls, rec);
    const runId = `${o.seed}-${randomBytes(3).toString('hex')}`;
    const quiesce: QuiesceVerdict[] = [];
    const progress = o.progress === false ? undefined : new Progress(trace.events.length, trace.header.durationMs);
    let result: ReplayResult;
    try {
      result = await replay({
        trace,
        urls,
        speed: o.speed,
        users: ids.users,
        staff: ids.staff,
        timings,
        maxClients: o.maxClients,
        maxDurationMs: o.maxDurationMs,
        orders: o.orders,
        allowRemote: o.allowRemote,
        runId,
        recorder: rec,
        progress,
        chaos,
        onQuiesce: async (q) => {
          const v = await judgeQuiescePoint(q);
          quiesce.push(v);
          const line = `quiesce ${v.q}: ${v.expectedTotal} people expected, ${v.comparisons} counts compared → ${v.mismatches.length === 0 ? 'ok' : `${v.mismatches.length} differences`}`;
          if (progress) progress.note(line);
          else log(line);
          const endpoint = started?.env.DYNAMODB_ENDPOINT;
          const prefix = started?.env.DYNAMODB_TABLE_PREFIX;
          if (v.mismatches.length > 0 && ids) {
            // DynamoDB when this tool started real stores; otherwise (embedded, or --url) the server's dev lookup.
            const source =
              endpoint && prefix
                ? { readStays: dynamoStays(endpoint, prefix), source: 'DynamoDB' }
                : { readStays: serverStays(urls[0]!, ids.users), source: `the store of ${urls[0]}` };
            const why = await explainDifferences({
              ...source,
              users: ids.users,
              venueIds: trace!.header.venues.map((x) => x.id),
              model: q.model,
              trail: q.trail,
              at: Date.now(),
            }).catch((err: unknown) => [`could not read the presence table: ${String(err)}`]);
            for (const l of why) log(l);
            // What the nodes warned about meanwhile (a lapsed lease, a failed grace cut) often names the cause.
            for (const node of started?.nodes ?? []) {
              const tail = node.output
                .join('')
                .split('\n')
                .filter((l) => /"level":(40|50|60)/.test(l))
                .slice(-8);
              for (const l of tail) log(`${node.id}: ${l.slice(0, 400)}`);
            }
          }
        },
      });
    } finally {
      await watcher.stop();
    }
    const readOrders = started?.db
      ? async (prefix: string): Promise<OrderRow[]> => {
          const rows = await started!.db!.prisma.order.findMany({
            where: { idempotencyKey: { startsWith: prefix } },
            select: {
              id: true,
              buyerId: true,
              idempotencyKey: true,
              status: true,
              capturedAt: true,
              redemption: { select: { status: true } },
            },
          });
          return rows.map((r) => ({ ...r, redemptionStatus: r.redemption?.status ?? null }));
        }
      : undefined;
    const planned = trace.events.filter((e) => e.e === 'order').length;
    const money = o.orders ? await judgeMoney({ orders: result.orders, planned, runId, users: ids.users, urls, readOrders }) : null;
    const extra: string[] = [];
    if (result.aborted) extra.push(result.aborted);
    const plannedQuiesce = trace.events.filter((e) => e.e === 'quiesce').length;
    if (quiesce.length < plannedQuiesce) extra.push(`only ${quiesce.length} of ${plannedQuiesce} quiesce points were judged`);
    const c = result.chaos;
    if (chaos && !c) extra.push('chaos was asked for but the replay injected no fault');
    if (c) {
      if (c.recoverySeconds === null)
        extra.push(`chaos: the counts were not exact within ${Math.round(chaos!.probeLimitMs / 1000)} s of the SIGKILL of node${c.node}`);
      if (c.redisKilledAtT === null) extra.push('chaos: the night ended before the Redis restart');
      else if (c.redisRecoverySeconds === null)
        extra.push(`chaos: viewers did not agree with the servers within ${Math.round(chaos!.probeLimitMs / 1000)} s of Redis returning`);
    }
    const verdict = verdictOf(quiesce, money, extra);
    await o.beforeStop?.(started, result);
    const facts = {
      trace,
      speed: o.speed,
      urls,
      stores: started ? `${o.stores} stores (started here)` : 'given URLs',
      realMs: result.realMs,
      aborted: result.aborted,
      nodeEnv: started?.env,
    };
    const summary = [summaryText(rec, verdict, facts), ...(c ? chaosText(c) : [])].join('\n');
    const html = htmlReport(rec, verdict, facts);
    if (o.htmlOut) {
      mkdirSync(dirname(o.htmlOut), { recursive: true });
      writeFileSync(o.htmlOut, html);
    }
    return { verdict, result, trace, summary, html, nodeEnv: started?.env, urls };
  } finally {
    await started?.close();
    await privateRedis?.stop();
  }
}
