/**
 * Check-in → map viewer on another node, measured from logs rather than from in-flight bookkeeping:
 * the observer on another node often hears the broadcast before the sender hears its ack, so pairing
 * must wait until both sides are logged. Every observer receipt and every ack is kept; afterwards each
 * ack is matched to the earliest receipt, on a node other than the sender's, whose version covers it.
 */
import os from 'node:os';
import { io, type Socket } from 'socket.io-client';
import { AccessTokens } from '../../server/auth/access-tokens';
import { venuesFromDatabase } from '../../loadtest/city';
import { Histogram } from '../../loadtest/histogram';
import { scrapeNode } from '../../loadtest/node-metrics';
import { startNodes } from '../../loadtest/nodes';
import type { NodeSample } from '../../loadtest/recorder';
import type { VenueCount } from '../../protocol/events';
import type { TraceVenue } from '../../protocol/trace';
import { cpuByGroup, type CpuGroup } from './proc-cpu';
import { mapLimit } from '../../server/lib/map-limit';

export interface Receipt {
  venueId: string;
  version: number;
  node: number;
  receivedAt: number;
}

export interface AckLog {
  venueId: string;
  /** The venue's count version the ack carried: read after the check-in's write, so it covers it. */
  version: number;
  sentAt: number;
  node: number;
  ackAt: number;
}

export interface Matched {
  /** send → the first viewer on another node that saw a version covering the check-in. */
  firstOther: Histogram;
  /** send → each viewer on another node (the slower of the two bounds what every viewer waits). */
  everyOther: Histogram;
  /** Acks no other node's viewer ever saw covered (lost or still in flight when the step ended). */
  unmatched: number;
  /** Per matched ack, first other viewer's receipt minus the ack's arrival: negative when the viewer heard first. */
  viewerMinusAck: Histogram;
}

/**
 * Pairs each ack with receipts. A receipt is a candidate for an ack when it is on another node, for the
 * same venue, at or after the send, with version ≥ the ack's. The ack's version may already include
 * later check-ins at the venue (it is read after the write), so a sample can only err long, never short.
 */
export function matchAcks(acks: AckLog[], receipts: Receipt[], nodes: number): Matched {
  const byVenueNode = new Map<string, Receipt[]>();
  for (const r of receipts) {
    const key = `${r.venueId}\u0000${r.node}`;
    const list = byVenueNode.get(key);
    if (list) list.push(r);
    else byVenueNode.set(key, [r]);
  }
  for (const list of byVenueNode.values()) list.sort((a, b) => a.receivedAt - b.receivedAt);
  const firstOther = new Histogram();
  const everyOther = new Histogram();
  const viewerMinusAck = new Histogram();
  let unmatched = 0;
  for (const a of acks) {
    let first = Infinity;
    for (let n = 0; n < nodes; n++) {
      if (n === a.node) continue;
      const hit = byVenueNode.get(`${a.venueId}\u0000${n}`)?.find((r) => r.receivedAt >= a.sentAt && r.version >= a.version);
      if (!hit) continue;
      everyOther.add(hit.receivedAt - a.sentAt);
      first = Math.min(first, hit.receivedAt - a.sentAt);
    }
    if (first === Infinity) unmatched++;
    else {
      firstOther.add(first);
      viewerMinusAck.add(a.sentAt + first - a.ackAt);
    }
  }
  return { firstOther, everyOther, unmatched, viewerMinusAck };
}

export interface StepResult {
  targetRate: number;
  seconds: number;
  /** Check-ins sent, and the ones not sent because every user still waited for an answer (offered load the client could not place). */
  sent: number;
  unplaced: number;
  ok: number;
  errors: Map<string, number>;
  /** ok acks per second of the step's wall time, from the first send to the last answer. */
  achievedRate: number;
  ack: Histogram;
  matched: Matched;
  /** venue:count messages the 3 observers received during the step. */
  delivered: number;
  broadcasts: number;
  /** Server CPU seconds per node during the step. */
  nodeCpu: number[];
  /** This (client) process's CPU seconds during the step. */
  clientCpu: number;
  /** Busy fraction of the whole box (all cores) during the step. */
  boxBusy: number;
  /** CPU seconds per process group during the step (Linux /proc; empty elsewhere). */
  cpu: Map<CpuGroup, number>;
  dynamoWrites: number;
  dynamoReads: number;
}

export interface SweepOptions {
  rates: number[];
  stepSeconds: number;
  users: number;
  venues: number;
  center: { lat: number; lng: number };
  /** Extra node environment (the naive baseline's switches). */
  env: Record<string, string>;
  log: (line: string) => void;
}

const NODES = 3;
/** The server's per-socket limit is 20 events/s (SOCKET_EVENTS_PER_SECOND); one user sends at most 10/s. */
const MIN_USER_GAP_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAll(url: string, tokens: (string | undefined)[], concurrency = 50): Promise<Socket[]> {
  const out: Socket[] = [];
  await mapLimit(tokens, concurrency, async (token) => {
    const s = io(url, { auth: token ? { token } : {}, transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000 });
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('connect_error', rej);
    });
    out.push(s);
  });
  return out;
}

function boxTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

type CheckInAck = { ok: true; data: { count: VenueCount } } | { ok: false; error: { code: string } };

/**
 * One cluster (3 nodes, real stores) driven through every rate in turn, each for `stepSeconds`, with a
 * drain between steps. Users are spread over the nodes; a user sends its next check-in only after the
 * previous one was answered (a phone does not check in twice at once), always to another venue, so
 * every check-in changes two counts and the server's per-socket rate limit is never reached.
 */
export async function checkinSweep(o: SweepOptions): Promise<StepResult[]> {
  let venues: TraceVenue[] = [];
  let tokens: string[] = [];
  const nodes = await startNodes({
    nodes: NODES,
    stores: 'real',
    venues: o.venues,
    center: o.center,
    env: { PRESENCE_TIMEOUT_SECONDS: '600', SWEEP_INTERVAL_MS: '1000', ...o.env },
    prepare: async (prisma, secret) => {
      venues = await venuesFromDatabase(prisma, o.center, o.venues);
      const emails = Array.from({ length: o.users }, (_, i) => `lat-${i}@loadtest.treatme.dev`);
      await prisma.user.createMany({ data: emails.map((email) => ({ email, displayName: 'Lat' })), skipDuplicates: true });
      const rows = await prisma.user.findMany({ where: { email: { in: emails } }, select: { id: true } });
      const t = new AccessTokens(secret, 3_600);
      tokens = rows.map((r) => t.sign(r.id));
    },
  });
  const sockets: Socket[] = [];
  try {
    const receipts: Receipt[] = [];
    const observers = await Promise.all(nodes.urls.map((u) => connectAll(u, [undefined]).then((s) => s[0]!)));
    sockets.push(...observers);
    observers.forEach((s, node) =>
      s.on('venue:count', (c: VenueCount) => receipts.push({ venueId: c.venueId, version: c.version, node, receivedAt: Date.now() })),
    );
    await Promise.all(
      observers.map((s) => new Promise((r) => s.timeout(30_000).emit('venue:watch', { venueIds: venues.map((v) => v.id) }, r))),
    );

    const perNode = nodes.urls.map((_, i) => tokens.filter((_, k) => k % NODES === i));
    const clients = await Promise.all(nodes.urls.map((u, i) => connectAll(u, perNode[i]!)));
    // Interleaved by node, so the round-robin below spreads even a short step over all three nodes.
    const users = Array.from({ length: tokens.length }, (_, k) => ({
      socket: clients[k % NODES]![Math.floor(k / NODES)]!,
      node: k % NODES,
      venue: -1,
      busy: false,
      lastSentAt: 0,
    }));
    sockets.push(...users.map((u) => u.socket));
    o.log(`  ${users.length} users and ${observers.length} observers connected over ${NODES} nodes`);

    const out: StepResult[] = [];
    let cursor = 0;
    for (const rate of o.rates) {
      const acks: AckLog[] = [];
      const errors = new Map<string, number>();
      const ack = new Histogram();
      const receiptsBefore = receipts.length;
      const m0 = await Promise.all(nodes.urls.map((u) => scrapeNode(u, 'n', 0)));
      const cpu0 = process.cpuUsage();
      const box0 = boxTimes();
      const procs = cpuByGroup(nodes.nodes.map((n) => n.proc.pid ?? -1));
      let sent = 0;
      let unplaced = 0;
      let inflight = 0;
      let lastAnswer = 0;
      const start = Date.now();
      while (Date.now() - start < o.stepSeconds * 1000) {
        const due = Math.floor(((Date.now() - start) / 1000) * rate);
        while (sent + unplaced < due) {
          const now = Date.now();
          let picked: (typeof users)[number] | undefined;
          for (let tries = 0; tries < users.length && !picked; tries++) {
            const u = users[cursor]!;
            cursor = (cursor + 1) % users.length;
            if (!u.busy && now - u.lastSentAt >= MIN_USER_GAP_MS) picked = u;
          }
          if (!picked) {
            // One full scan found nobody free: the rest of what is due now cannot be placed either.
            unplaced = due - sent;
            break;
          }
          const user = picked;
          let vi = (sent * 7 + cursor) % venues.length;
          if (vi === user.venue) vi = (vi + 1) % venues.length;
          const v = venues[vi]!;
          user.busy = true;
          user.lastSentAt = now;
          inflight++;
          sent++;
          user.socket
            .timeout(30_000)
            .emit('presence:checkin', { venueId: v.id, lat: v.lat, lng: v.lng }, (err: Error | null, res: CheckInAck) => {
              const ackAt = Date.now();
              user.busy = false;
              inflight--;
              lastAnswer = ackAt;
              const code = err ? 'CLIENT_TIMEOUT' : res.ok ? null : res.error.code;
              if (code !== null) {
                errors.set(code, (errors.get(code) ?? 0) + 1);
                return;
              }
              if (!res.ok) return;
              user.venue = vi;
              ack.add(ackAt - now);
              acks.push({ venueId: v.id, version: res.data.count.version, sentAt: now, node: user.node, ackAt });
            });
        }
        await sleep(2);
      }
      const sendEnd = Date.now();
      // Drain: every answer in (or timed out), then time for the last broadcasts to reach the observers.
      while (inflight > 0 && Date.now() - sendEnd < 35_000) await sleep(20);
      await sleep(2_000);
      const clientCpu = process.cpuUsage(cpu0);
      const box1 = boxTimes();
      const cpu = procs.stop();
      const m1 = await Promise.all(nodes.urls.map((u) => scrapeNode(u, 'n', 0)));
      const delta = (f: (s: NodeSample) => number) => m1.map((s, i) => (s && m0[i] ? f(s) - f(m0[i]) : 0));
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const result: StepResult = {
        targetRate: rate,
        seconds: o.stepSeconds,
        sent,
        unplaced,
        ok: acks.length,
        errors,
        achievedRate: (acks.length / (Math.max(lastAnswer, sendEnd) - start)) * 1000,
        ack,
        matched: matchAcks(acks, receipts, NODES),
        delivered: receipts.length - receiptsBefore,
        broadcasts: sum(delta((s) => s.broadcasts)),
        nodeCpu: delta((s) => s.cpuSeconds),
        clientCpu: (clientCpu.user + clientCpu.system) / 1e6,
        boxBusy: (box1.busy - box0.busy) / Math.max(1, box1.total - box0.total),
        cpu,
        dynamoWrites: sum(delta((s) => s.dynamoWrites)),
        dynamoReads: sum(delta((s) => s.dynamoReads)),
      };
      out.push(result);
      const f = result.matched.firstOther;
      o.log(
        `  ${rate}/s: sent ${sent} (unplaced ${unplaced}), ok ${result.ok} → ${result.achievedRate.toFixed(0)}/s, errors ${JSON.stringify(Object.fromEntries(errors))}, ` +
          `ack p50 ${ack.percentile(50).toFixed(0)} p99 ${ack.percentile(99).toFixed(0)} ms, viewer p50 ${f.percentile(50).toFixed(0)} p99 ${f.percentile(99).toFixed(0)} ms (n=${f.count}, unmatched ${result.matched.unmatched}), box ${(result.boxBusy * 100).toFixed(0)}% busy`,
      );
    }
    return out;
  } finally {
    for (const s of sockets) s.disconnect();
    await nodes.close();
  }
}
