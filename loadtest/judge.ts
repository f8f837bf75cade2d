import { io } from 'socket.io-client';
import type { Ack } from '../protocol/errors';
import type { VenueCount } from '../protocol/events';
import { MAX_WATCH_VENUES, type BBox } from '../protocol/schemas';
import type { TraceVenue } from '../protocol/trace';
import type { VenueExpectation } from './presence-model';
import type { Identity, OrderRecord, QuiescePoint, ViewerState } from './replayer';

export interface CountMismatch {
  source: string;
  venueId: string;
  slug: string;
  expected: VenueExpectation;
  actual: number | null;
  /** What the server's fresh snapshot said, when a viewer disagrees with it. */
  server?: number;
}

export interface QuiesceVerdict {
  q: number;
  traceT: number;
  venues: number;
  viewersChecked: number;
  /** Venue counts compared: fresh snapshots on each node plus every viewer's last-seen value in view. */
  comparisons: number;
  /** Users whose stay the model could not call (a race only the server saw): they widen the accepted range. */
  unsure: number;
  settledMs: number;
  expectedTotal: number;
  mismatches: CountMismatch[];
}

export interface MoneyVerdict {
  ordersPlanned: number;
  ordersCreated: number;
  ordersRefused: number;
  doubleTaps: number;
  paid: number;
  accepted: number;
  redeemed: number;
  rescansRefused: number;
  /** Orders the server created whose answer never reached the client (timeouts): counted, not charged twice. */
  unanswered: number;
  problems: string[];
  checkedIn: 'database' | 'api' | 'skipped';
}

export interface Verdict {
  pass: boolean;
  quiesce: QuiesceVerdict[];
  money: MoneyVerdict | null;
  problems: string[];
}

function inBBox(v: { lat: number; lng: number }, [w, s, e, n]: BBox): boolean {
  const inLng = w <= e ? v.lng >= w && v.lng <= e : v.lng >= w || v.lng <= e;
  return inLng && v.lat >= s && v.lat <= n;
}

/**
 * Pure comparison, so a unit test can feed it a wrong count: every node's fresh snapshot must lie in
 * the expected range, and every viewer's last-seen count for a venue in its view must both lie in the
 * range and equal what its node reports now (a viewer that missed the last broadcast is caught even
 * when its stale number happens to be plausible).
 */
export function compareCounts(input: {
  venues: TraceVenue[];
  expected: VenueExpectation[];
  snapshots: { label: string; node: number; counts: Map<string, number> }[];
  viewers: ViewerState[];
}): { mismatches: CountMismatch[]; comparisons: number; viewersChecked: number } {
  const mismatches: CountMismatch[] = [];
  let comparisons = 0;
  let viewersChecked = 0;
  const outside = (e: VenueExpectation, n: number | null) => n === null || n < e.lo || n > e.hi;
  input.venues.forEach((venue, i) => {
    const e = input.expected[i] ?? { lo: 0, hi: 0 };
    for (const s of input.snapshots) {
      comparisons++;
      const n = s.counts.get(venue.id) ?? null;
      if (outside(e, n)) mismatches.push({ source: s.label, venueId: venue.id, slug: venue.slug, expected: e, actual: n });
    }
  });
  for (const v of input.viewers) {
    if (!v.watchAll && !v.bbox) continue;
    viewersChecked++;
    const server = input.snapshots.find((s) => s.node === v.node) ?? input.snapshots[0];
    input.venues.forEach((venue, i) => {
      if (!v.watchAll && !inBBox(venue, v.bbox!)) return;
      comparisons++;
      const e = input.expected[i] ?? { lo: 0, hi: 0 };
      const n = v.seen.get(venue.id)?.count ?? null;
      const now = server?.counts.get(venue.id);
      if (outside(e, n) || (now !== undefined && n !== now)) {
        mismatches.push({
          source: v.label,
          venueId: venue.id,
          slug: venue.slug,
          expected: e,
          actual: n,
          ...(now !== undefined ? { server: now } : {}),
        });
      }
    });
  }
  return { mismatches, comparisons, viewersChecked };
}

/** A fresh anonymous socket's venue:watch answer: what the server says right now, untouched by any viewer's history. */
export async function freshSnapshot(url: string, venueIds: string[], timeoutMs = 15_000): Promise<Map<string, number>> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: timeoutMs });
  try {
    await new Promise<void>((res, rej) => {
      socket.once('connect', () => res());
      socket.once('connect_error', rej);
    });
    const out = new Map<string, number>();
    for (let k = 0; k < venueIds.length; k += MAX_WATCH_VENUES) {
      const ack = await new Promise<Ack<{ counts: VenueCount[] }>>((res, rej) =>
        socket
          .timeout(timeoutMs)
          .emit(
            'venue:watch',
            { venueIds: venueIds.slice(k, k + MAX_WATCH_VENUES) },
            (err: Error | null, a: Ack<{ counts: VenueCount[] }>) => (err ? rej(err) : res(a)),
          ),
      );
      if (!ack.ok) throw new Error(`venue:watch refused: ${ack.error.code}`);
      for (const c of ack.data.counts) out.set(c.venueId, c.count);
    }
    return out;
  } finally {
    socket.disconnect();
  }
}

export async function judgeQuiescePoint(q: QuiescePoint): Promise<QuiesceVerdict> {
  const venues = q.trace.header.venues;
  const ids = venues.map((v) => v.id);
  const before = Date.now();
  const snapshots = await Promise.all(
    q.urls
      .map((url, node) => ({ url, node }))
      .filter(({ node }) => !q.down?.includes(node))
      .map(async ({ url, node }) => ({ label: `server@node${node}`, node, counts: await freshSnapshot(url, ids) })),
  );
  const after = Date.now();
  const expected = q.model.expected({ lo: before, hi: after }, venues.length);
  const { mismatches, comparisons, viewersChecked } = compareCounts({ venues, expected, snapshots, viewers: q.viewers });
  return {
    q: q.q,
    traceT: q.traceT,
    venues: venues.length,
    viewersChecked,
    comparisons,
    unsure: q.model.unsureUsers(),
    settledMs: q.settledMs,
    expectedTotal: expected.reduce((a, e) => a + e.lo, 0),
    mismatches,
  };
}

export interface OrderRow {
  id: string;
  buyerId: string;
  idempotencyKey: string | null;
  status: string;
  capturedAt: Date | null;
  redemptionStatus: string | null;
}

/**
 * Money: a repeated POST with one Idempotency-Key must answer the same order, a QR code must redeem
 * once, and the system of record must hold exactly one order per key with a capture only on redeemed
 * orders. Read from the database when this tool started the nodes, through the API otherwise.
 */
export async function judgeMoney(input: {
  orders: OrderRecord[];
  planned: number;
  runId: string;
  users: Identity[];
  urls: string[];
  /** Orders whose Idempotency-Key starts with the prefix, straight from PostgreSQL. */
  readOrders?: (keyPrefix: string) => Promise<OrderRow[]>;
}): Promise<MoneyVerdict> {
  const problems: string[] = [];
  const v: MoneyVerdict = {
    ordersPlanned: input.planned,
    ordersCreated: 0,
    ordersRefused: 0,
    doubleTaps: 0,
    paid: 0,
    accepted: 0,
    redeemed: 0,
    rescansRefused: 0,
    unanswered: 0,
    problems,
    checkedIn: input.readOrders ? 'database' : 'api',
  };
  for (const r of input.orders) {
    if (!r.id) {
      v.ordersRefused++;
      continue;
    }
    v.ordersCreated++;
    if (r.repeatIds.length > 0) v.doubleTaps++;
    for (const other of r.repeatIds)
      if (other !== r.id) problems.push(`order ${r.o}: the same Idempotency-Key answered two orders (${r.id}, ${other})`);
    if (r.paid) v.paid++;
    if (r.qrCode) v.accepted++;
    if (r.confirmed) v.redeemed++;
    for (const status of r.rescans) {
      if (status >= 200 && status < 300) problems.push(`order ${r.o}: a redeemed QR code was scanned again successfully`);
      else v.rescansRefused++;
    }
  }
  const byKey = new Map(input.orders.filter((r) => r.id).map((r) => [r.key, r]));
  if (input.readOrders) {
    const rows = await input.readOrders(`lt-${input.runId}-`);
    const perKey = new Map<string, OrderRow[]>();
    for (const row of rows)
      perKey.set(`${row.buyerId}/${row.idempotencyKey}`, [...(perKey.get(`${row.buyerId}/${row.idempotencyKey}`) ?? []), row]);
    for (const [key, list] of perKey)
      if (list.length > 1) problems.push(`${list.length} orders in the database for one Idempotency-Key ${key}`);
    // An order whose answer was lost (a client timeout) may exist without the replayer knowing its id;
    // that is not a double charge. One key never used by the replayer, or two orders for one key, is.
    const sent = new Set(input.orders.map((r) => r.key));
    for (const row of rows)
      if (row.idempotencyKey && !sent.has(row.idempotencyKey)) problems.push(`order ${row.id} has a key the replayer never sent`);
    v.unanswered = rows.filter((row) => row.idempotencyKey && !byKey.has(row.idempotencyKey)).length;
    for (const row of rows) {
      const r = row.idempotencyKey ? byKey.get(row.idempotencyKey) : undefined;
      if (row.capturedAt && row.status !== 'REDEEMED') problems.push(`order ${row.id} was captured but is ${row.status}`);
      if (r?.confirmed && (row.status !== 'REDEEMED' || row.redemptionStatus !== 'REDEEMED')) {
        problems.push(`order ${row.id} was confirmed by the bartender but is ${row.status} / redemption ${row.redemptionStatus}`);
      }
      // A confirm whose answer was lost may have been served: only a REDEEMED order nobody tried to confirm is wrong.
      if (!r?.confirmed && !r?.confirmUnsure && row.status === 'REDEEMED')
        problems.push(`order ${row.id} is REDEEMED though no bartender confirmed it`);
    }
  } else {
    // Through the API: each buyer's orders from this run, by id; an order nobody was answered is a double charge.
    const buyers = new Map<number, Set<string>>();
    for (const r of input.orders) if (r.id) buyers.set(r.buyer, (buyers.get(r.buyer) ?? new Set()).add(r.id));
    const url = input.urls[0]!;
    for (const [buyer, ids] of buyers) {
      const res = await fetch(`${url}/api/orders?role=buyer&limit=100`, {
        headers: { authorization: `Bearer ${input.users[buyer]!.token}` },
      });
      if (!res.ok) {
        problems.push(`GET /api/orders for buyer ${buyer}: HTTP ${res.status}`);
        continue;
      }
      const body = (await res.json()) as { orders: { id: string; status: string; createdAt: string }[] };
      const ours = body.orders.filter((x) => ids.has(x.id));
      if (ours.length !== ids.size) problems.push(`buyer ${buyer}: ${ids.size} orders answered, ${ours.length} listed`);
      for (const x of ours) {
        const r = input.orders.find((o) => o.id === x.id);
        if (r?.confirmed && x.status !== 'REDEEMED') problems.push(`order ${x.id} confirmed but ${x.status}`);
        if (!r?.confirmed && x.status === 'REDEEMED') problems.push(`order ${x.id} REDEEMED without a confirm`);
      }
    }
  }
  return v;
}

export function verdictOf(quiesce: QuiesceVerdict[], money: MoneyVerdict | null, extra: string[]): Verdict {
  const problems = [...extra];
  for (const q of quiesce) if (q.mismatches.length > 0) problems.push(`quiesce point ${q.q}: ${q.mismatches.length} count differences`);
  if (money) problems.push(...money.problems);
  return { pass: problems.length === 0, quiesce, money, problems };
}
