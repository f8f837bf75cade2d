import { io, type Socket } from 'socket.io-client';
import type { Ack } from '../protocol/errors';
import type { CheckInResult, VenueCount } from '../protocol/events';
import { MAX_WATCH_VENUES } from '../protocol/schemas';
import type { BBox } from '../protocol/schemas';
import type { Trace, TraceEvent } from '../protocol/trace';
import { emptyChaosReport, serverRecoverySeconds, type ChaosOptions, type ChaosReport } from './chaos';
import { freshSnapshot } from './judge';
import { assertLoopback } from './loopback';
import { expiryCaughtUpTo } from './node-metrics';
import { PresenceModel, type ServerTimings } from './presence-model';
import { Progress } from './progress';
import { Recorder } from './recorder';

export interface Identity {
  userId: string;
  token: string;
}

export interface ReplayOptions {
  trace: Trace;
  urls: string[];
  /** Trace ms per real ms: 60 plays an hour in a minute. */
  speed: number;
  users: Identity[];
  /** Bartender per venue index (scans). */
  staff: (Identity | undefined)[];
  timings: ServerTimings;
  maxClients: number;
  maxDurationMs: number;
  /** Play orders, payments, accepts and scans (needs dev mode with simulated payments). */
  orders: boolean;
  allowRemote?: boolean;
  /** Unique per run so Idempotency-Keys never collide with an earlier run against the same server. */
  runId: string;
  /** Called at each quiesce point once the server has settled. */
  onQuiesce?: (q: QuiescePoint) => Promise<void>;
  /** Sample interval (real ms) for the hottest venues' counts. */
  sampleEveryMs?: number;
  progress?: Progress;
  recorder?: Recorder;
  ackTimeoutMs?: number;
  /** Faults to inject (`--chaos`): a SIGKILLed node, a Redis restart. */
  chaos?: ChaosOptions;
}

/** What a viewer last saw of one venue: the highest version wins, as the protocol says. */
export type Seen = Map<string, VenueCount>;

export interface ViewerState {
  label: string;
  node: number;
  bbox: BBox | null;
  /** Venue ids this viewer follows explicitly (observers). */
  watchAll: boolean;
  seen: Seen;
}

export interface QuiescePoint {
  q: number;
  traceT: number;
  urls: string[];
  /** Nodes down at this checkpoint (chaos): not asked for their counts. */
  down?: number[];
  model: PresenceModel;
  viewers: ViewerState[];
  trace: Trace;
  /** What each user did and heard (real epoch ms), to explain a difference the judge finds. */
  trail: Map<number, string[]>;
  /** Real time when the pause began and how long the settle wait lasted. */
  pausedAt: number;
  settledMs: number;
}

export interface OrderRecord {
  o: number;
  buyer: number;
  recipient: number;
  venue: number;
  key: string;
  id?: string;
  paymentIntentId?: string;
  /** Order ids answered to repeated POSTs with the same key: all must be `id`. */
  repeatIds: string[];
  paid?: boolean;
  qrCode?: string;
  redemptionId?: string;
  confirmed?: boolean;
  /** A confirm was sent but its answer was lost (timeout, network): the drink may or may not be served. */
  confirmUnsure?: boolean;
  /** HTTP statuses of scans after the confirmed one: each must be a refusal. */
  rescans: number[];
  error?: string;
}

export interface ReplayResult {
  recorder: Recorder;
  model: PresenceModel;
  orders: OrderRecord[];
  aborted: string | null;
  realMs: number;
  events: number;
  chaos?: ChaosReport;
}

type AnySocket = Socket;

function emitAck<T>(socket: AnySocket, event: string, payload: unknown, timeoutMs: number): Promise<Ack<T> | { timeout: true }> {
  return new Promise((res) => {
    socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, ack: Ack<T>) => res(err ? { timeout: true } : ack));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

function keepHigher(seen: Seen, c: VenueCount): boolean {
  const prev = seen.get(c.venueId);
  if (prev && prev.version >= c.version) return false;
  seen.set(c.venueId, { venueId: c.venueId, count: c.count, version: c.version });
  return true;
}

/** Error codes after which the server surely changed nothing. */
const REFUSED = new Set([
  'VALIDATION',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOO_FAR',
  'RATE_LIMITED',
  'NOT_CHECKED_IN',
  'PAYLOAD_TOO_LARGE',
]);

/**
 * Plays a trace against live servers with real socket.io clients and HTTP calls, time-compressed by
 * `speed`. Each user's actions run in order on their own promise chain, so a slow ack delays that user
 * only; at a quiesce point everything drains, expiries that might straddle the check are waited out,
 * and `onQuiesce` (the judge) runs against a still world.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  for (const url of o.urls) assertLoopback(url, o.allowRemote ?? false);
  const { trace } = o;
  const rec = o.recorder ?? new Recorder();
  const model = new PresenceModel(o.timings);
  // Long: an ack the client gives up on leaves the model guessing, while a late one only slows this user down.
  const ackTimeout = o.ackTimeoutMs ?? 90_000;
  const n = o.urls.length;
  const needed = trace.header.users + trace.header.viewers + n;
  if (needed > o.maxClients) {
    throw new Error(`this trace needs up to ${needed} sockets, more than --max-clients ${o.maxClients}`);
  }
  if (o.users.length < trace.header.users) throw new Error(`${trace.header.users} users in the trace but ${o.users.length} identities`);
  const venueIds = trace.header.venues.map((v) => v.id);
  const venueIndex = new Map(venueIds.map((id, i) => [id, i]));

  const userSockets = new Map<number, { socket: AnySocket; node: number }>();
  // Nodes killed by chaos and not back yet: nobody connects to them, actions go to the next live one.
  const down = new Set<number>();
  const live = (i: number): number => {
    for (let k = 0; k < n; k++) if (!down.has((i + k) % n)) return (i + k) % n;
    return i;
  };
  /** The node a user's last socket was on: where their stay is held, as far as the client knows. */
  const stayNode = new Map<number, number>();
  const userMessages = new Map<number, number>();
  const reconnects = new Map<number, number>();
  const chains = new Map<string, Promise<void>>();
  const viewers = new Map<number, ViewerState & { socket?: AnySocket; messages: number }>();
  const observers: (ViewerState & { socket: AnySocket })[] = [];
  const orders: OrderRecord[] = [];
  const trail = new Map<number, string[]>();
  const note = (u: number, line: string) => {
    const list = trail.get(u) ?? [];
    list.push(line);
    if (list.length > 24) list.shift();
    trail.set(u, list);
  };
  // Check-in → viewer latency: a count change made on node A, first seen by a socket on another node.
  const probes = new Map<string, { version: number; sentAt: number; node: number }[]>();
  let inflight = 0;
  let aborted: string | null = null;
  // Woken whenever an action finishes: waiting on a counter, not on Promise.race over thousands of
  // pending promises (each race leaves a reaction on every one of them until it settles).
  let wake: (() => void) | undefined;
  const settled = () => new Promise<void>((r) => (wake = r));
  const started = Date.now();

  // The broadcast often reaches a viewer on another node before the ack reaches the client: recent
  // receipts are kept so a check-in already seen is measured at once, not at the venue's next change.
  const received = new Map<string, { version: number; at: number; node: number }[]>();
  const latencyName = n === 1 ? 'check-in → viewer' : 'check-in → viewer on another node';
  const notePosting = (venueId: string, version: number, sentAt: number, node: number) => {
    const seen = received.get(venueId)?.find((r) => r.version >= version && (r.node !== node || n === 1));
    if (seen) {
      rec.hist(latencyName).add(Math.max(0, seen.at - sentAt));
      return;
    }
    const list = probes.get(venueId) ?? [];
    list.push({ version, sentAt, node });
    probes.set(venueId, list);
  };
  const onCount = (viewerNode: number, c: VenueCount) => {
    const now = Date.now();
    const log = received.get(c.venueId) ?? [];
    log.push({ version: c.version, at: now, node: viewerNode });
    if (log.length > 32) log.shift();
    received.set(c.venueId, log);
    const list = probes.get(c.venueId);
    if (!list || list.length === 0) return;
    const keep: typeof list = [];
    for (const p of list) {
      if (p.version <= c.version && (p.node !== viewerNode || n === 1)) rec.hist(latencyName).add(now - p.sentAt);
      else if (now - p.sentAt < 30_000) keep.push(p);
      else rec.bump('check-ins never seen by a viewer within 30 s');
    }
    probes.set(c.venueId, keep);
  };

  const connectSocket = async (url: string, token: string | undefined, label: string): Promise<AnySocket | null> => {
    const sent = Date.now();
    const socket = io(url, {
      auth: token ? { token } : {},
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: ackTimeout,
    });
    const ok = await new Promise<boolean>((res) => {
      socket.once('connect', () => res(true));
      socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
        rec.error(err.data?.code ?? 'CONNECT_ERROR', `connect ${label}`);
        res(false);
      });
    });
    if (!ok) {
      socket.close();
      return null;
    }
    rec.hist('connect').add(Date.now() - sent);
    return socket;
  };

  const http = async (
    method: string,
    url: string,
    route: string,
    token: string | undefined,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const sent = Date.now();
    try {
      const res = await fetch(url, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(ackTimeout),
      });
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code?: string } };
      rec.hist(`HTTP ${method} ${route}`).add(Date.now() - sent);
      if (!res.ok) rec.error(json.error?.code ?? `HTTP_${res.status}`, `${method} ${route}`);
      return { status: res.status, json };
    } catch (err) {
      rec.error(err instanceof Error && err.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK', `${method} ${route}`);
      return { status: 0, json: {} as Record<string, unknown> };
    }
  };

  const userAck = async <T>(
    u: number,
    event: string,
    payload: unknown,
  ): Promise<{ ack: Ack<T> | null; sentAt: number; ackAt: number } | null> => {
    const s = userSockets.get(u);
    if (!s || !s.socket.connected) {
      rec.bump(`skipped ${event} (socket closed)`);
      return null;
    }
    const sentAt = Date.now();
    const r = await emitAck<T>(s.socket, event, payload, ackTimeout);
    const ackAt = Date.now();
    rec.hist(`ack ${event}`).add(ackAt - sentAt);
    if ('timeout' in r) {
      rec.error('TIMEOUT', event);
      return { ack: null, sentAt, ackAt };
    }
    if (!r.ok) rec.error(r.error.code, event);
    return { ack: r, sentAt, ackAt };
  };

  const base = (ev: { u: number }) => o.urls[live(ev.u % n)]!;
  const userEvent = async (ev: Extract<TraceEvent, { u: number }>): Promise<void> => {
    const u = ev.u;
    switch (ev.e) {
      case 'connect': {
        const old = userSockets.get(u);
        if (old?.socket.connected) return;
        // A reconnect lands on another node, as behind a load balancer: state must follow the user.
        const k = reconnects.get(u) ?? 0;
        reconnects.set(u, k + 1);
        const node = live((u + k) % n);
        const sentAt = Date.now();
        const socket = await connectSocket(o.urls[node]!, o.users[u]!.token, 'user');
        if (!socket) {
          note(u, `connect node${node} ${sentAt}→${Date.now()} FAILED`);
          model.connectUnknown(u, sentAt, Date.now());
          return;
        }
        socket.onAny(() => userMessages.set(u, (userMessages.get(u) ?? 0) + 1));
        userSockets.set(u, { socket, node });
        stayNode.set(u, node);
        note(u, `connect node${node} ${sentAt}→${Date.now()} sid ${socket.id}`);
        model.connect(u, sentAt, Date.now());
        return;
      }
      case 'disconnect': {
        const s = userSockets.get(u);
        if (!s) return;
        s.socket.disconnect();
        userSockets.delete(u);
        note(u, `disconnect (${ev.why}) ${Date.now()}`);
        model.disconnect(u, Date.now());
        return;
      }
      case 'checkin': {
        const venueId = venueIds[ev.v]!;
        const before = model.endOf(u) ? 'present' : 'absent';
        const r = await userAck<CheckInResult>(u, 'presence:checkin', {
          venueId,
          lat: ev.lat,
          lng: ev.lng,
          wantsToBuy: ev.buy,
          wantsToReceive: ev.recv,
        });
        if (!r) return;
        note(
          u,
          `checkin v${ev.v} ${r.sentAt}→${r.ackAt} ${r.ack ? (r.ack.ok ? `ok prev ${r.ack.data.previousVenueId ?? '-'}` : r.ack.error.code) : 'TIMEOUT'}`,
        );
        if (r.ack?.ok) {
          model.checkIn(u, ev.v, r.sentAt, r.ackAt);
          const changed = before === 'absent' || r.ack.data.previousVenueId !== null;
          if (changed) notePosting(venueId, r.ack.data.count.version, r.sentAt, userSockets.get(u)?.node ?? 0);
        } else if (!r.ack || !REFUSED.has(r.ack.error.code)) model.checkInUnknown(u, ev.v, r.sentAt, r.ackAt);
        return;
      }
      case 'heartbeat': {
        const r = await userAck<{ presence: { venueId: string } | null }>(u, 'presence:heartbeat', {});
        if (r)
          note(
            u,
            `heartbeat ${r.sentAt}→${r.ackAt} ${r.ack ? (r.ack.ok ? `venue ${r.ack.data.presence ? venueIndex.get(r.ack.data.presence.venueId) : null}` : r.ack.error.code) : 'TIMEOUT'}`,
          );
        if (r?.ack?.ok) {
          const held = r.ack.data.presence ? (venueIndex.get(r.ack.data.presence.venueId) ?? null) : null;
          model.heartbeat(u, r.sentAt, r.ackAt, held);
        }
        return;
      }
      case 'leave': {
        const r = await userAck<{ left: boolean }>(u, 'presence:leave', { venueId: venueIds[ev.v]! });
        if (!r) return;
        note(u, `leave v${ev.v} ${r.sentAt}→${r.ackAt} ${r.ack ? (r.ack.ok ? `left ${r.ack.data.left}` : r.ack.error.code) : 'TIMEOUT'}`);
        if (r.ack?.ok) model.leave(u);
        else if (!r.ack || !REFUSED.has(r.ack.error.code)) model.leaveUnknown(u);
        return;
      }
      case 'order': {
        if (!o.orders) return;
        const key = `lt-${o.runId}-o${ev.o}`;
        const record: OrderRecord = { o: ev.o, buyer: u, recipient: ev.to, venue: ev.v, key, repeatIds: [], rescans: [] };
        orders[ev.o] = record;
        const body = { recipientId: o.users[ev.to]!.userId, venueId: venueIds[ev.v]!, paymentMethod: 'STRIPE', amountCents: ev.cents };
        const post = () => http('POST', `${base(ev)}/api/orders`, '/api/orders', o.users[u]!.token, body, { 'Idempotency-Key': key });
        // A double tap sends the same request twice at once; a second one still running gets 409 and is retried.
        const answers = await Promise.all(ev.dup ? [post(), post()] : [post()]);
        for (const a of answers.slice(1)) if (a.status === 409) answers.push(await post());
        for (const a of answers) {
          if (a.status !== 200 && a.status !== 201) continue;
          const res = a.json as { order?: { id: string }; payment?: { paymentIntentId: string } };
          if (!res.order) continue;
          if (record.id === undefined) {
            record.id = res.order.id;
            record.paymentIntentId = res.payment?.paymentIntentId;
          } else record.repeatIds.push(res.order.id);
        }
        if (record.id === undefined) record.error = `create: ${answers.map((a) => a.status).join(',')}`;
        else rec.bump('orders created');
        return;
      }
      default:
        return;
    }
  };

  const orderEvent = async (ev: Extract<TraceEvent, { o: number }>): Promise<void> => {
    const r = orders[ev.o];
    if (!o.orders || !r?.id) return;
    const url = o.urls[live(r.buyer % n)]!;
    if (ev.e === 'pay' && r.paymentIntentId) {
      const a = await http('POST', `${url}/api/dev/payments/${r.paymentIntentId}/succeed`, '/api/dev/payments/:id/succeed', undefined);
      r.paid = a.status === 200;
    } else if (ev.e === 'accept' && r.paid) {
      const a = await http('POST', `${url}/api/orders/${r.id}/accept`, '/api/orders/:id/accept', o.users[r.recipient]!.token);
      if (a.status === 200) r.qrCode = (a.json as { qrCode?: string }).qrCode;
    } else if (ev.e === 'scan' && r.qrCode) {
      const staff = o.staff[r.venue];
      if (!staff) {
        rec.bump('scans skipped (no bartender for the venue)');
        return;
      }
      const staffUrl = o.urls[live((r.recipient + 1) % n)]!;
      const a = await http('POST', `${staffUrl}/api/redemptions/scan`, '/api/redemptions/scan', staff.token, { code: r.qrCode });
      const redemption = (a.json as { redemption?: { id: string } }).redemption;
      if (a.status !== 200 || !redemption) return;
      r.redemptionId = redemption.id;
      const c = await http('POST', `${staffUrl}/api/redemptions/${redemption.id}/confirm`, '/api/redemptions/:id/confirm', staff.token);
      r.confirmed = c.status === 200;
      r.confirmUnsure = c.status === 0;
      if (ev.twice) {
        const again = await http(
          'POST',
          `${o.urls[live(r.buyer % n)]!}/api/redemptions/scan`,
          '/api/redemptions/scan (again)',
          staff.token,
          {
            code: r.qrCode,
          },
        );
        r.rescans.push(again.status);
      }
    }
  };

  const viewerEvent = async (ev: Extract<TraceEvent, { w: number }>): Promise<void> => {
    let v = viewers.get(ev.w);
    if (ev.e === 'unview') {
      v?.socket?.disconnect();
      if (v) v.bbox = null;
      return;
    }
    if (!v) {
      v = { label: `viewer ${ev.w}`, node: ev.w % n, bbox: null, watchAll: false, seen: new Map(), messages: 0 };
      viewers.set(ev.w, v);
    }
    if (!v.socket?.connected) {
      v.node = live(v.node);
      const socket = await connectSocket(o.urls[v.node]!, undefined, 'viewer');
      if (!socket) return;
      const state = v;
      socket.onAny(() => state.messages++);
      socket.on('venue:count', (c: VenueCount) => {
        if (keepHigher(state.seen, c)) onCount(state.node, c);
      });
      socket.on('venue:snapshot', (m: { counts: VenueCount[] }) => m.counts.forEach((c) => keepHigher(state.seen, c)));
      v.socket = socket;
    }
    const sentAt = Date.now();
    const r = await emitAck<{ counts: VenueCount[] }>(v.socket, 'map:watch', { bbox: ev.bbox }, ackTimeout);
    rec.hist('ack map:watch').add(Date.now() - sentAt);
    if ('timeout' in r) rec.error('TIMEOUT', 'map:watch');
    else if (!r.ok) rec.error(r.error.code, 'map:watch');
    else {
      v.bbox = ev.bbox;
      r.data.counts.forEach((c) => keepHigher(v.seen, c));
    }
  };

  // One observer per node follows every venue: it measures cross-node latency and samples hot venues.
  const openObserver = async (i: number) => {
    const socket = await connectSocket(o.urls[i]!, undefined, 'observer');
    if (!socket) throw new Error(`cannot open an observer socket on ${o.urls[i]}`);
    const state = { label: `observer@node${i}`, node: i, bbox: null, watchAll: true, seen: new Map<string, VenueCount>(), socket };
    socket.on('venue:count', (c: VenueCount) => {
      if (keepHigher(state.seen, c)) onCount(i, c);
    });
    for (let k = 0; k < venueIds.length; k += MAX_WATCH_VENUES) {
      const r = await emitAck<{ counts: VenueCount[] }>(
        socket,
        'venue:watch',
        { venueIds: venueIds.slice(k, k + MAX_WATCH_VENUES) },
        ackTimeout,
      );
      if ('timeout' in r || !r.ok) throw new Error(`observer venue:watch failed on ${o.urls[i]}`);
      r.data.counts.forEach((c) => keepHigher(state.seen, c));
    }
    observers.push(state);
  };
  for (let i = 0; i < n; i++) await openObserver(i);

  const chainKey = (ev: TraceEvent): string =>
    'u' in ev && ev.e !== 'order' ? `u${ev.u}` : 'o' in ev ? `o${ev.o}` : 'w' in ev ? `w${ev.w}` : 'global';
  const run = (ev: TraceEvent): Promise<void> => {
    if ('w' in ev) return viewerEvent(ev);
    if (ev.e === 'order') return userEvent(ev);
    if ('o' in ev) return orderEvent(ev);
    if ('u' in ev) return userEvent(ev);
    return Promise.resolve();
  };
  const enqueue = (key: string, label: string, action: () => Promise<void>) => {
    inflight++;
    const next = (chains.get(key) ?? Promise.resolve())
      .then(action)
      .catch(() => rec.error('CLIENT_EXCEPTION', label))
      .finally(() => {
        inflight--;
        wake?.();
      });
    chains.set(key, next);
  };
  const dispatch = (ev: TraceEvent) => enqueue(chainKey(ev), ev.e, () => run(ev));

  // ---- chaos: the faults and what the phones do about them ------------------------------------
  const chaos = o.chaos;
  const chaosReport = chaos ? emptyChaosReport(chaos) : undefined;
  // Recovery windows a checkpoint waits out (the reap, the Redis return), and the rest (the restart).
  const chaosWork: Promise<void>[] = [];
  const chaosTail: Promise<void>[] = [];
  const liveUrls = () => o.urls.filter((_, i) => !down.has(i));
  /** Every live node's fresh counts within the model's range, with the killed node's orphans ended. */
  const countsExact = async (orphansGone: boolean): Promise<boolean> => {
    const before = Date.now();
    const snaps = await Promise.all(
      o.urls.map((url, i) => (down.has(i) ? Promise.resolve(null) : freshSnapshot(url, venueIds, 5_000).catch(() => undefined))),
    );
    if (snaps.some((x) => x === undefined)) return false;
    const expected = model.expected({ lo: before, hi: Date.now() }, venueIds.length, orphansGone);
    return snaps.every(
      (snap) => !snap || venueIds.every((id, v) => (snap.get(id) ?? -1) >= expected[v]!.lo && (snap.get(id) ?? -1) <= expected[v]!.hi),
    );
  };
  /** Every node ready, and every observer's last-seen counts equal to what its node says now. */
  const viewersAgree = async (): Promise<boolean> => {
    const ready = await Promise.all(
      liveUrls().map((url) =>
        fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.ok,
          () => false,
        ),
      ),
    );
    if (!ready.every(Boolean)) return false;
    for (const ob of observers) {
      const snap = await freshSnapshot(o.urls[ob.node]!, venueIds, 5_000).catch(() => null);
      if (!snap || venueIds.some((id) => (ob.seen.get(id)?.count ?? 0) !== (snap.get(id) ?? 0))) return false;
    }
    return countsExact(true);
  };
  const reconnectAfterKill = async (u: number, dead: AnySocket, k: number) => {
    // The trace may have moved on (a leave of the app, a later connect) while the client waited to retry.
    if (userSockets.get(u)?.socket !== dead) return;
    const node = live((k + 1 + (u % Math.max(1, n - 1))) % n);
    const sentAt = Date.now();
    const socket = await connectSocket(o.urls[node]!, o.users[u]!.token, 'user (after a node died)');
    if (!socket) {
      // No way back: the stay stays orphaned and the survivors end it, as for an abandoned phone.
      userSockets.delete(u);
      note(u, `reconnect after node${k} died → node${node} FAILED ${Date.now()}`);
      return;
    }
    socket.onAny(() => userMessages.set(u, (userMessages.get(u) ?? 0) + 1));
    userSockets.set(u, { socket, node });
    stayNode.set(u, node);
    chaosReport!.reconnected++;
    note(u, `reconnect after node${k} died → node${node} ${sentAt}→${Date.now()} sid ${socket.id}`);
    model.connect(u, sentAt, Date.now());
  };
  const killNode = async (traceT: number) => {
    const c = chaos!;
    const r = chaosReport!;
    const k = c.node;
    r.killedAtT = traceT;
    down.add(k);
    const killedAt = Date.now();
    await c.kill(k);
    rec.bump(`chaos: node${k} SIGKILLed`);
    // Its observer and viewers hold dead sockets: out of the judged set until they reconnect.
    const ob = observers.findIndex((x) => x.node === k);
    if (ob >= 0) observers.splice(ob, 1);
    for (const v of viewers.values()) if (v.node === k) v.bbox = null;
    for (const [u, s] of userSockets) {
      if (s.node !== k) continue;
      r.phones++;
      if (model.nodeLost(u, killedAt, c.leaseMs, c.reapWithinMs)) r.orphanedStays++;
      // A hash of the user, not the user index: which node a phone is on already depends on its index.
      if ((Math.imul(u + 1, 0x9e3779b1) >>> 0) % c.abandonEvery === 0) {
        userSockets.delete(u);
        r.abandoned++;
        note(u, `abandoned when node${k} died ${killedAt}`);
      } else {
        // socket.io's reconnect: about a second, randomized so the phones do not all land at once.
        const delay = 500 + ((u * 7919) % 1000);
        enqueue(`u${u}`, 'reconnect', async () => {
          await sleep(killedAt + delay - Date.now());
          await reconnectAfterKill(u, s.socket, k);
        });
      }
    }
    // Phones already closed whose stay the dead node held (a grace period it may not have written yet).
    for (const [u, node] of stayNode) if (node === k && !userSockets.has(u)) model.nodeLost(u, killedAt, c.leaseMs, c.reapWithinMs);
    const recovered = (async () => {
      const limit = killedAt + c.probeLimitMs;
      while (Date.now() < limit && !aborted) {
        await sleep(250);
        if ((await serverRecoverySeconds(liveUrls())) === null) continue;
        if (await countsExact(true)) {
          r.recoverySeconds = (Date.now() - killedAt) / 1000;
          r.reaped = model.orphansReaped();
          break;
        }
      }
      r.serverRecoverySeconds = await serverRecoverySeconds(liveUrls());
    })();
    chaosWork.push(recovered);
    // Back as a new incarnation once its stays are settled; checkpoints meanwhile judge the survivors.
    chaosTail.push(
      recovered.then(async () => {
        try {
          await c.restart(k);
          down.delete(k);
          r.restartedAfterSeconds = (Date.now() - killedAt) / 1000;
          await openObserver(k);
        } catch (err) {
          aborted = `chaos: node${k} did not come back: ${err instanceof Error ? err.message.slice(0, 500) : String(err)}`;
          wake?.();
        }
      }),
    );
  };
  const restartRedis = (traceT: number) => {
    const c = chaos!;
    const r = chaosReport!;
    r.redisKilledAtT = traceT;
    chaosWork.push(
      (async () => {
        const killedAt = Date.now();
        await c.redisKill();
        rec.bump('chaos: Redis killed');
        await sleep(c.redisDownMs);
        await c.redisStart();
        const back = Date.now();
        r.redisDownSeconds = (back - killedAt) / 1000;
        while (Date.now() < back + c.probeLimitMs && !aborted) {
          await sleep(250);
          if (await viewersAgree()) {
            r.redisRecoverySeconds = (Date.now() - back) / 1000;
            break;
          }
        }
      })().catch((err: unknown) => {
        aborted = `chaos: Redis did not come back: ${String(err)}`;
        wake?.();
      }),
    );
  };
  let killed = false;
  let redisRestarted = false;
  const drain = async () => {
    while (inflight > 0 && !aborted) await settled();
    if (!aborted) chains.clear();
  };

  const deadline = setTimeout(() => {
    aborted = `stopped after --max-duration ${Math.round(o.maxDurationMs / 1000)} s`;
    wake?.();
  }, o.maxDurationMs);
  deadline.unref();
  const hot = (() => {
    const counts = new Map<number, number>();
    for (const ev of trace.events) if (ev.e === 'checkin') counts.set(ev.v, (counts.get(ev.v) ?? 0) + 1);
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([v]) => venueIds[v]!);
  })();
  let clockStart = Date.now();
  let traceNow = 0;
  const sampler = setInterval(() => {
    const counts: Record<string, number> = {};
    for (const id of hot) counts[id] = observers[0]?.seen.get(id)?.count ?? 0;
    rec.countSeries.push({ t: traceNow, counts });
  }, o.sampleEveryMs ?? 500);
  sampler.unref();

  /**
   * A checkpoint may pause the night longer than the heartbeat timeout, which would time out every
   * phone: phones do not stop heartbeating while the judge looks. Those whose trace heartbeats again
   * right after the checkpoint keep beating through the pause; stalled ones (no heartbeat coming) stay
   * silent, as the trace says. Chaos checkpoints wait out a recovery window, but an ordinary one can
   * outlast the timeout too: at the default 60× the timeout is 10 s and the settle wait may run to
   * 2 × (grace + close lag + settle) + 5 s = 17.5 s. The judge would still be exact (the model times
   * them out as the server does), but of an emptied city, and the rest of the night would replay
   * without most of its people.
   */
  const hb = trace.header.heartbeatMs;
  let stopKeepAlive = () => undefined as void;
  const keepAlive = (at: number): (() => void) => {
    const beating = new Set<number>();
    for (const e of trace.events) if (e.e === 'heartbeat' && e.t > at && e.t <= at + 1.5 * hb) beating.add(e.u);
    let running = 0;
    const timer = setInterval(
      () => {
        // One round at a time, so the drain before the judge sees a moment with nothing in flight.
        if (running > 0 || aborted) return;
        for (const u of beating) {
          if (!userSockets.get(u)?.socket.connected) continue;
          running++;
          enqueue(`u${u}`, 'heartbeat', async () => {
            try {
              await userEvent({ e: 'heartbeat', u, t: at });
            } finally {
              running--;
            }
          });
        }
      },
      Math.max(100, hb / o.speed),
    );
    timer.unref();
    stopKeepAlive = () => clearInterval(timer);
    return stopKeepAlive;
  };

  const MAX_INFLIGHT = 5_000;
  let done = 0;
  try {
    for (const ev of trace.events) {
      if (aborted) break;
      const due = clockStart + ev.t / o.speed;
      const wait = due - Date.now();
      if (wait > 2) await sleep(wait);
      else rec.lag.add(-wait);
      traceNow = ev.t;
      if (chaos && !killed && ev.t >= chaos.killAtT) {
        killed = true;
        await killNode(ev.t);
      }
      if (chaos && !redisRestarted && ev.t >= chaos.redisAtT) {
        redisRestarted = true;
        restartRedis(ev.t);
      }
      if (ev.e === 'quiesce') {
        const pausedAt = Date.now();
        const stopBeating = keepAlive(ev.t);
        // A checkpoint judges the recovered cluster: the fault's recovery window runs out first.
        await Promise.all(chaosWork);
        await drain();
        // Wait out every stay whose end falls around the check, so the expected counts are unambiguous.
        const checkMs = 2_000;
        const limit =
          pausedAt + 2 * (o.timings.graceMs + o.timings.closeLagMs + o.timings.settleMs) + 5_000 + (chaos ? chaos.reapWithinMs : 0);
        let pending = model.pendingAt(Date.now(), checkMs);
        await sleep(o.timings.settleMs);
        while (pending.users > 0 && Date.now() < limit && !aborted) {
          await sleep(Math.min(pending.settleBy, limit) - Date.now());
          pending = model.pendingAt(Date.now(), checkMs);
        }
        // Stays the model says are over may still wait for a busy sweeper or heartbeat-timeout check: a
        // still world is one where the servers have ended everything that expired before now.
        const caughtUpBy = Date.now();
        for (
          let through = await expiryCaughtUpTo(o.urls);
          through !== null && through < caughtUpBy && Date.now() < limit && !aborted;
          through = await expiryCaughtUpTo(o.urls)
        ) {
          await sleep(250);
        }
        if (aborted) break;
        await o
          .onQuiesce?.({
            q: ev.q,
            traceT: ev.t,
            urls: o.urls,
            down: [...down],
            model,
            viewers: [...observers, ...viewers.values()],
            trace,
            trail,
            pausedAt,
            settledMs: Date.now() - pausedAt,
          })
          .finally(stopBeating);
        // The trace clock stood still while the world settled.
        clockStart += Date.now() - pausedAt;
      } else {
        while (inflight >= MAX_INFLIGHT && !aborted) await settled();
        if (aborted) break;
        dispatch(ev);
      }
      done++;
      o.progress?.update(done, ev.t, { sockets: userSockets.size, inflight, lagMs: Math.max(0, -wait) });
    }
    await drain();
    await Promise.all([...chaosWork, ...chaosTail]);
  } finally {
    stopKeepAlive();
    clearTimeout(deadline);
    clearInterval(sampler);
    o.progress?.finish();
    rec.messagesPerUser = [...Array(trace.header.users).keys()].map((u) => userMessages.get(u) ?? 0).filter((_, u) => reconnects.has(u));
    rec.messagesPerViewer = [...viewers.values()].map((v) => v.messages);
    for (const s of userSockets.values()) s.socket.disconnect();
    for (const v of viewers.values()) v.socket?.disconnect();
    for (const ob of observers) ob.socket.disconnect();
  }
  return {
    recorder: rec,
    model,
    orders: orders.filter(Boolean),
    aborted,
    realMs: Date.now() - started,
    events: done,
    ...(chaosReport ? { chaos: chaosReport } : {}),
  };
}
