/**
 * Check-in load for the capacity benchmark: signed-in users spread over the nodes, each moving from
 * venue to venue (every check-in is a move: two counts change). Closed loop finds the rate the cluster
 * holds; open loop at a fixed rate measures the ack latency a phone sees below saturation.
 */
import { io, type Socket } from 'socket.io-client';
import { Histogram } from '../../loadtest/histogram';
import { scrapeNode } from '../../loadtest/node-metrics';
import type { NodeSample } from '../../loadtest/recorder';
import type { TraceVenue } from '../../protocol/trace';
import { mapLimit } from '../../server/lib/map-limit';
import { cpuByGroup, type CpuGroup } from './proc-cpu';

export interface LoadUser {
  socket: Socket;
  node: number;
  venue: number;
  busy: boolean;
  /** Acked at least once: the user is checked in somewhere. */
  placed: boolean;
}

export interface PhaseResult {
  seconds: number;
  ok: number;
  errors: Map<string, number>;
  rate: number;
  ack: Histogram;
  cpu: Map<CpuGroup, number>;
  dynamoRequests: number;
  byCommand: Map<string, number>;
  /** Membership changes per committed TransactWriteItems (nodes that export the histogram), else NaN. */
  batchSize: number;
  /** Mean wait of a membership change before its transaction was sent (ms), and the share that waited ≤ 5 ms. */
  waitMeanMs: number;
  waitUnder5ms: number;
}

type CheckInAck = { ok: true } | { ok: false; error: { code: string } };

export async function connectUsers(urls: string[], tokens: string[]): Promise<LoadUser[]> {
  const users: LoadUser[] = [];
  await mapLimit(
    tokens.map((t, k) => ({ t, k })),
    50,
    async ({ t, k }) => {
      const node = k % urls.length;
      const socket = io(urls[node]!, {
        auth: { token: t },
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        timeout: 60_000,
      });
      await new Promise<void>((res, rej) => {
        socket.once('connect', () => res());
        socket.once('connect_error', rej);
      });
      users[k] = { socket, node, venue: -1, busy: false, placed: false };
    },
  );
  return users;
}

async function scrapeAll(urls: string[]): Promise<(NodeSample & { text?: string })[]> {
  return (await Promise.all(urls.map((u) => scrapeNode(u, 'n', 0)))).map((s) => s ?? ({ dynamoReads: 0, dynamoWrites: 0 } as NodeSample));
}

async function dynamoByCommand(urls: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const u of urls) {
    const text = await (await fetch(`${u}/metrics`)).text();
    for (const m of text.matchAll(/^treatme_dynamodb_write_batch_size_(sum|count) (\S+)$/gm))
      out.set(`batch_${m[1]}`, (out.get(`batch_${m[1]}`) ?? 0) + Number(m[2]));
    for (const m of text.matchAll(/^treatme_dynamodb_write_wait_seconds_(sum|count) (\S+)$/gm))
      out.set(`batch_wait_${m[1]}`, (out.get(`batch_wait_${m[1]}`) ?? 0) + Number(m[2]));
    for (const m of text.matchAll(/^treatme_dynamodb_write_wait_seconds_bucket\{le="0.005"\} (\S+)$/gm))
      out.set('batch_wait_5ms', (out.get('batch_wait_5ms') ?? 0) + Number(m[1]));
    for (const m of text.matchAll(/^treatme_dynamodb_requests_total\{[^}]*command="([^"]+)"[^}]*\}\s+(\S+)$/gm)) {
      out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
    }
  }
  return out;
}

/**
 * Runs one phase: closed loop (`rate` undefined: every user checks in again as soon as answered) or
 * open loop at `rate` check-ins/s (a send is skipped when every user still waits for an answer).
 */
export async function runPhase(o: {
  users: LoadUser[];
  venues: TraceVenue[];
  urls: string[];
  serverPids: number[];
  seconds: number;
  rate?: number;
}): Promise<PhaseResult> {
  const { users, venues } = o;
  const ack = new Histogram();
  const errors = new Map<string, number>();
  let ok = 0;
  let inflight = 0;
  let stopped = false;
  let seq = 0;
  const before = await dynamoByCommand(o.urls);
  const m0 = await scrapeAll(o.urls);
  const procs = cpuByGroup(o.serverPids);
  const start = Date.now();
  const send = (u: LoadUser, onDone: () => void) => {
    let vi = (seq++ * 7919 + u.node * 13) % venues.length;
    if (vi === u.venue) vi = (vi + 1) % venues.length;
    const v = venues[vi]!;
    u.busy = true;
    inflight++;
    const sentAt = performance.now();
    u.socket.timeout(30_000).emit('presence:checkin', { venueId: v.id, lat: v.lat, lng: v.lng }, (err: Error | null, res: CheckInAck) => {
      u.busy = false;
      inflight--;
      const code = err ? 'CLIENT_TIMEOUT' : res.ok ? null : res.error.code;
      if (code === null) {
        ok++;
        u.venue = vi;
        u.placed = true;
        ack.add(performance.now() - sentAt);
      } else errors.set(code, (errors.get(code) ?? 0) + 1);
      onDone();
    });
  };
  if (o.rate === undefined) {
    const loop = (u: LoadUser) => () => {
      if (!stopped) send(u, loop(u));
    };
    for (const u of users) send(u, loop(u));
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    stopped = true;
  } else {
    let sent = 0;
    let cursor = 0;
    while (Date.now() - start < o.seconds * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * o.rate);
      while (sent < due) {
        let picked: LoadUser | undefined;
        for (let tries = 0; tries < users.length && !picked; tries++) {
          const u = users[cursor]!;
          cursor = (cursor + 1) % users.length;
          if (!u.busy) picked = u;
        }
        sent++;
        if (!picked) {
          errors.set('UNPLACED', (errors.get('UNPLACED') ?? 0) + 1);
          continue;
        }
        send(picked, () => undefined);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const end = Date.now();
  while (inflight > 0 && Date.now() - end < 35_000) await new Promise((r) => setTimeout(r, 10));
  // Background work (sweeps, resyncs) that the phase caused is counted with it.
  await new Promise((r) => setTimeout(r, 1_000));
  const cpu = procs.stop();
  const m1 = await scrapeAll(o.urls);
  const after = await dynamoByCommand(o.urls);
  const delta = new Map([...after].map(([c, v]) => [c, v - (before.get(c) ?? 0)] as const));
  const batchSize = (delta.get('batch_sum') ?? NaN) / (delta.get('batch_count') ?? NaN);
  const waits = delta.get('batch_wait_count') ?? NaN;
  const waitMeanMs = ((delta.get('batch_wait_sum') ?? NaN) / waits) * 1000;
  const waitUnder5ms = (delta.get('batch_wait_5ms') ?? NaN) / waits;
  const byCommand = new Map([...delta].filter(([c, v]) => v > 0 && !c.startsWith('batch_')));
  const dynamoRequests = m1.reduce((a, s, i) => a + s.dynamoReads + s.dynamoWrites - (m0[i]!.dynamoReads + m0[i]!.dynamoWrites), 0);
  return {
    seconds: (end - start) / 1000,
    ok,
    errors,
    rate: ok / ((end - start) / 1000),
    ack,
    cpu,
    dynamoRequests,
    byCommand,
    batchSize,
    waitMeanMs,
    waitUnder5ms,
  };
}
