import { TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceEvent, type TraceHeader, type TraceVenue } from '../protocol/trace';
import { Rng, Zipf } from './random';

export interface GenerateOptions {
  seed: number;
  users: number;
  venues: TraceVenue[];
  /** Length of the night in trace time; 21:00 → 03:00 is 6 h, shorter runs squeeze the same shape. */
  durationMs?: number;
  viewers?: number;
  heartbeatMs?: number;
  presenceTimeoutMs?: number;
  presenceGraceMs?: number;
  /** Orders per user over the night. */
  ordersPerUser?: number;
  /** Quiesce points, the last one at the end of the night when every venue must be empty. */
  quiescePoints?: number;
  zipfExponent?: number;
  emailPattern?: string;
}

const HOUR = 3_600_000;

interface Segment {
  u: number;
  v: number;
  from: number;
  to: number;
  recv: boolean;
}

/** Spreads a point inside `meters` of a venue: check-ins must be near it, but phones are not all on one spot. */
function near(rng: Rng, v: TraceVenue, meters: number): { lat: number; lng: number } {
  const r = meters * Math.sqrt(rng.next());
  const a = rng.between(0, 2 * Math.PI);
  const lat = v.lat + (r * Math.cos(a)) / 111_320;
  const lng = v.lng + (r * Math.sin(a)) / (111_320 * Math.cos((v.lat * Math.PI) / 180));
  return { lat: Number(lat.toFixed(6)), lng: Number(lng.toFixed(6)) };
}

/**
 * A deterministic Friday night: the same options give the same trace, byte for byte. Arrivals ramp from
 * 21:00 to a peak near midnight and everyone has gone by 03:00; venues are chosen Zipf-like so a few
 * clubs are packed. Presence-ending moments (a killed app's grace running out, a stalled app's timeout)
 * are kept away from quiesce points so the judge's expected counts are unambiguous.
 */
export function generateTrace(o: GenerateOptions): Trace {
  const rng = new Rng(o.seed);
  const D = o.durationMs ?? 6 * HOUR;
  const hb = o.heartbeatMs ?? 30_000;
  const timeout = o.presenceTimeoutMs ?? 600_000;
  const grace = o.presenceGraceMs ?? 60_000;
  const nVenues = o.venues.length;
  if (nVenues === 0) throw new Error('a night needs at least one venue');
  const viewers = o.viewers ?? Math.max(4, Math.round(o.users / 250));
  const qCount = Math.max(1, o.quiescePoints ?? 4);
  const quiesce = Array.from({ length: qCount }, (_, i) => Math.round(((i + 1) / qCount) * D));
  // Everyone has left early enough that every grace period has run out before the last quiesce point.
  const drainEnd = Math.min(0.96 * D, D - 2 * grace - 2 * hb);
  if (drainEnd < 0.3 * D) throw new Error(`a ${D} ms night is too short for a ${grace} ms grace period`);
  const clearance = Math.max(2 * hb, 5_000);

  // Popularity ranks are a seeded shuffle, so the hot clubs are not just the first rows the server listed.
  const byRank = rng.shuffle(Array.from({ length: nVenues }, (_, i) => i));
  const zipf = new Zipf(nVenues, o.zipfExponent ?? 1.1);
  const pickVenue = (not?: number): number => {
    for (let i = 0; i < 10; i++) {
      const v = byRank[zipf.sample(rng)]!;
      if (v !== not || nVenues === 1) return v;
    }
    return byRank[(byRank.indexOf(not ?? 0) + 1) % nVenues]!;
  };
  /**
   * Moves a presence-ending moment away from every quiesce point (earlier, so it stays in the night),
   * to a spread-out moment: a wall of ends at one instant would measure the sweeper's queue, not the rules.
   */
  const clearOfQuiesce = (end: number): number => {
    for (const q of quiesce) if (Math.abs(end - q) < clearance) return q - clearance - 1 - rng.between(0, clearance);
    return end;
  };

  const events: TraceEvent[] = [];
  const segments: Segment[] = [];
  const round = (t: number) => Math.max(0, Math.round(t));
  const push = (ev: TraceEvent) => events.push({ ...ev, t: round(ev.t) } as TraceEvent);

  for (let u = 0; u < o.users; u++) {
    const arrive = rng.triangular(0, 0.45 * D, 0.75 * D);
    const stay = rng.between(0.08, 0.4) * D;
    let leaveAt = arrive + Math.max(stay, 6 * hb);
    // Closing time empties the bars over a while, not in one instant: stays that would outlast the
    // night end spread over its last stretch (a wall of leaves at one moment measures a queue, not a night).
    if (leaveAt > drainEnd) leaveAt = Math.max(arrive + 4 * hb, drainEnd - rng.between(0, 0.12 * D));
    leaveAt = Math.min(leaveAt, drainEnd);
    if (leaveAt - arrive < 4 * hb) leaveAt = Math.min(drainEnd, arrive + 4 * hb);
    const buy = rng.chance(0.3);
    const recv = rng.chance(0.4);
    const phase = rng.between(0, hb);
    const r = rng.next();
    let ending: 'leave' | 'kill' | 'stall' = r < 0.6 ? 'leave' : r < 0.9 ? 'kill' : 'stall';
    if (ending === 'stall' && leaveAt + timeout + 3 * hb > drainEnd) ending = 'kill';
    if (ending === 'kill') leaveAt = clearOfQuiesce(leaveAt + grace) - grace;
    if (ending === 'stall') leaveAt = clearOfQuiesce(leaveAt + timeout) - timeout;
    const checkinAt = arrive + rng.between(500, 3_000);
    if (leaveAt < checkinAt + 2 * hb) leaveAt = checkinAt + 2 * hb;

    // Venue changes: the first check-in, then 0–2 moves.
    const changes: { t: number; v: number }[] = [{ t: checkinAt, v: pickVenue() }];
    const moves = rng.chance(0.35) ? rng.int(1, 3) : 0;
    for (let m = 0; m < moves; m++) {
      const t = rng.between(checkinAt + 2 * hb, leaveAt - 2 * hb);
      if (t > checkinAt + hb) changes.push({ t, v: -1 });
    }
    changes.sort((a, b) => a.t - b.t);
    for (let i = 1; i < changes.length; i++) changes[i]!.v = pickVenue(changes[i - 1]!.v);

    // At most one spell away: the phone backgrounds (or drops off the network) and comes back.
    let away: { from: number; to: number; long: boolean } | undefined;
    const long = rng.chance(0.5);
    // Short spells end well inside the grace period (the stay resumes), long ones well after it (the stay ended).
    const gap = long ? rng.between(1.5, 2.5) * grace : rng.between(0.1, 0.3) * grace;
    if (rng.chance(0.25) && leaveAt - checkinAt > gap + 4 * hb) {
      const from = clearOfQuiesce(rng.between(checkinAt + 2 * hb, leaveAt - gap - 3 * hb) + grace) - grace;
      away = { from, to: from + gap, long };
    }

    // A move planned while the phone is away never happens.
    if (away) {
      const a = away;
      for (let i = changes.length - 1; i > 0; i--) {
        const c = changes[i]!;
        if (c.t > a.from - hb && c.t < a.to + 3_000) changes.splice(i, 1);
      }
    }
    const venueAt = (t: number): number => {
      let v = changes[0]!.v;
      for (const c of changes) if (c.t <= t) v = c.v;
      return v;
    };
    const checkin = (t: number, v: number) => {
      const venue = o.venues[v]!;
      push({ t, e: 'checkin', u, v, ...near(rng, venue, 120), buy, recv });
    };

    push({ t: arrive, e: 'connect', u });
    for (const c of changes) checkin(c.t, c.v);
    if (away) {
      push({ t: away.from, e: 'disconnect', u, why: rng.chance(0.5) ? 'background' : 'network' });
      push({ t: away.to, e: 'connect', u });
      // Back after the grace period the stay is over: the app notices and checks in again.
      if (away.long) checkin(away.to + 2_000, venueAt(away.to));
    }
    // Spells where the user is surely checked in somewhere: what orders may be placed in.
    changes.forEach((c, i) => {
      const to = changes[i + 1]?.t ?? leaveAt;
      if (away && away.from < to && away.to + 3_000 > c.t) {
        segments.push({ u, v: c.v, from: c.t, to: away.from, recv });
        segments.push({ u, v: c.v, from: away.to + 3_000, to, recv });
      } else segments.push({ u, v: c.v, from: c.t, to, recv });
    });

    for (let t = checkinAt + phase; t < leaveAt; t += hb) {
      if (away && t >= away.from - 1_000 && t <= away.to + 3_000) continue;
      push({ t, e: 'heartbeat', u });
    }
    if (ending === 'leave') {
      push({ t: leaveAt, e: 'leave', u, v: venueAt(leaveAt) });
      push({ t: leaveAt + 500, e: 'disconnect', u, why: 'leave' });
    } else if (ending === 'kill') {
      push({ t: leaveAt, e: 'disconnect', u, why: 'kill' });
    } else {
      // Stalled: the socket stays open but the heartbeats stopped; the timeout ends the stay, then the OS closes it.
      push({ t: Math.min(leaveAt + timeout + 2 * hb, D - 1_000), e: 'disconnect', u, why: 'end' });
    }
  }

  // Orders between two people at the same venue at the same time, the recipient open to a treat.
  const orders = Math.round(o.users * (o.ordersPerUser ?? 0.05));
  const byVenue = new Map<number, Segment[]>();
  for (const s of segments) if (s.to - s.from > 4 * hb) byVenue.set(s.v, [...(byVenue.get(s.v) ?? []), s]);
  const receivers = segments.filter((s) => s.recv && s.to - s.from > 4 * hb);
  let o2 = 0;
  for (let attempt = 0; attempt < orders * 20 && o2 < orders && receivers.length > 0; attempt++) {
    const r = rng.pick(receivers);
    const others = (byVenue.get(r.v) ?? []).filter((s) => s.u !== r.u && Math.min(s.to, r.to) - Math.max(s.from, r.from) > 5 * hb);
    if (others.length === 0) continue;
    const b = rng.pick(others);
    // Well after both check-ins: under load an ack can trail its send by a second, which is a long time at 60×.
    const t = Math.max(r.from, b.from) + 3 * hb;
    push({ t, e: 'order', o: o2, u: b.u, to: r.u, v: r.v, cents: 500 * rng.int(2, 5), dup: rng.chance(0.15) });
    push({ t: t + 5_000, e: 'pay', o: o2 });
    if (rng.chance(0.9)) {
      push({ t: t + 15_000, e: 'accept', o: o2 });
      if (rng.chance(0.9)) push({ t: t + 30_000, e: 'scan', o: o2, twice: rng.chance(0.15) });
    }
    o2++;
  }

  // Map viewers pan around the hot spots; a few watch the whole city. They stay until the end so every
  // quiesce point has someone to ask what they saw.
  const lats = o.venues.map((v) => v.lat);
  const lngs = o.venues.map((v) => v.lng);
  const city: [number, number, number, number] = [
    Math.min(...lngs) - 0.01,
    Math.min(...lats) - 0.01,
    Math.max(...lngs) + 0.01,
    Math.max(...lats) + 0.01,
  ];
  for (let w = 0; w < viewers; w++) {
    const wide = w % 5 === 0;
    let t = rng.between(0, 0.3 * D);
    while (t < D - clearance) {
      if (wide) push({ t, e: 'view', w, bbox: city });
      else {
        const c = o.venues[pickVenue()]!;
        const half = rng.between(0.004, 0.02);
        const halfLng = half / Math.cos((c.lat * Math.PI) / 180);
        const bbox: [number, number, number, number] = [
          Number((c.lng - halfLng * rng.between(0.5, 1.5)).toFixed(6)),
          Number((c.lat - half * rng.between(0.5, 1.5)).toFixed(6)),
          Number((c.lng + halfLng * rng.between(0.5, 1.5)).toFixed(6)),
          Number((c.lat + half * rng.between(0.5, 1.5)).toFixed(6)),
        ];
        push({ t, e: 'view', w, bbox });
      }
      if (wide) break;
      t += Math.max(5_000, rng.between(0.04, 0.12) * D);
    }
  }

  quiesce.forEach((q, i) => push({ t: q, e: 'quiesce', q: i }));
  // Stable sort: same-time events keep generation order, and a quiesce point comes after everything at its time.
  const order = (e: TraceEvent) => (e.e === 'quiesce' ? 1 : 0);
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.t - b.e.t || order(a.e) - order(b.e) || a.i - b.i)
    .map((x) => x.e);

  const header: TraceHeader = {
    kind: 'header',
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    seed: o.seed,
    startsAt: '21:00',
    durationMs: D,
    users: o.users,
    viewers,
    venues: o.venues,
    heartbeatMs: hb,
    presenceTimeoutMs: timeout,
    presenceGraceMs: grace,
    emailPattern: o.emailPattern ?? `lt-${o.seed}-{u}@loadtest.treatme.dev`,
    events: sorted.length,
  };
  return { header, events: sorted };
}

/** A synthetic city for unit tests and offline generation: `n` venues in a ring around a centre. */
export function syntheticVenues(n: number, center = { lat: 40.7128, lng: -74.006 }, seed = 1): TraceVenue[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const r = 3_000 * Math.sqrt(rng.next());
    const a = rng.between(0, 2 * Math.PI);
    const slug = `lt-venue-${i}`;
    return {
      id: `venue_${i}`,
      slug,
      lat: Number((center.lat + (r * Math.cos(a)) / 111_320).toFixed(6)),
      lng: Number((center.lng + (r * Math.sin(a)) / (111_320 * Math.cos((center.lat * Math.PI) / 180))).toFixed(6)),
      staffEmail: `staff+${slug}@treatme.dev`,
    };
  });
}
