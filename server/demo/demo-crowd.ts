import { randomUUID } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack } from '../../protocol/errors';
import { ClientEvent, type ClientToServerEvents, type ServerToClientEvents } from '../../protocol/events';
import type { NearbyVenuesResponse, VenueView } from '../../protocol/http/venues';
import type { AccessTokens } from '../auth/access-tokens';
import type { Logger } from '../observability/logger';
import type { PrismaClient } from '../storage/prisma-types';

/**
 * `npm run demo`: simulated guests who arrive at the demo venues, move between them and go home, and
 * now and then buy each other a drink that the venue's staff account scans and serves. They go through
 * the same doors as a phone (socket.io over a real WebSocket, the REST API over HTTP), so the map and
 * the tablet move exactly as they would on a busy night. Identities are made in-process (users in the
 * database, tokens signed with the server's key) so the sign-in rate limit is left to real people.
 */
export interface DemoCrowdOptions {
  /** The running server, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  guests: number;
  center: { lat: number; lng: number };
  prisma: PrismaClient;
  tokens: AccessTokens;
  logger: Logger;
  random?: () => number;
  /** Demo seconds are this many real milliseconds (1000: real time; tests pass less). */
  msPerSecond?: number;
}

export interface DemoCrowd {
  /** Guests' sockets, for tests and the start-up banner. */
  readonly guests: number;
  stop(): Promise<void>;
}

type GuestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Guest {
  id: string;
  name: string;
  socket: GuestSocket;
  venueId: string | null;
  wantsToReceive: boolean;
}

const FIRST_NAMES = [
  'Ava',
  'Ben',
  'Chloe',
  'Diego',
  'Emma',
  'Farah',
  'Gabe',
  'Hana',
  'Ivan',
  'Jade',
  'Kofi',
  'Lena',
  'Milo',
  'Nina',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Uma',
  'Victor',
  'Wen',
  'Yara',
  'Zoe',
];
const MESSAGES = [
  'Cheers!',
  'Happy birthday 🎉',
  'Loved your dance moves',
  'For the best table in the house',
  'Round one is on me',
  'Welcome to the city!',
];
/** Demo guests sign their tokens for a night, so a long demo never meets an expired handshake. */
const DEMO_TOKEN_TTL_SECONDS = 12 * 3600;
const HEARTBEAT_SECONDS = 25;

export async function startDemoCrowd(opts: DemoCrowdOptions): Promise<DemoCrowd> {
  const random = opts.random ?? Math.random;
  const unit = opts.msPerSecond ?? 1000;
  const log = opts.logger.child({ component: 'demo-crowd' });
  let running = true;
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (seconds: number) =>
    new Promise<void>((res) => {
      const t = setTimeout(() => {
        timers.delete(t);
        res();
      }, seconds * unit);
      timers.add(t);
    });
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const tokenFor = (userId: string) => opts.tokens.sign(userId, DEMO_TOKEN_TTL_SECONDS);

  const api = async <T>(userId: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> => {
    const res = await fetch(`${opts.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokenFor(userId)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const nearby = await fetch(`${opts.baseUrl}/api/venues?lat=${opts.center.lat}&lng=${opts.center.lng}&radius=10km&limit=100`);
  if (!nearby.ok) throw new Error(`demo crowd: GET /api/venues answered ${nearby.status}`);
  const venues = ((await nearby.json()) as NearbyVenuesResponse).venues;
  if (venues.length === 0) throw new Error('demo crowd: no venues near the city centre (is SEED_DEMO_DATA off on an empty database?)');
  // A few hot venues and a long tail, like a real night.
  const weights = venues.map((_, i) => 1 / (1 + i * 0.6));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickVenue = (except?: string | null): VenueView => {
    for (;;) {
      let r = random() * totalWeight;
      const i = weights.findIndex((w) => (r -= w) <= 0);
      const v = venues[i < 0 ? venues.length - 1 : i]!;
      if (v.id !== except || venues.length === 1) return v;
    }
  };
  const staffByVenue = new Map(
    (
      await opts.prisma.venueStaff.findMany({
        where: { venueId: { in: venues.map((v) => v.id) } },
        select: { venueId: true, userId: true },
      })
    ).map((s) => [s.venueId, s.userId] as const),
  );

  const guests: Guest[] = [];
  for (let i = 0; i < opts.guests; i++) {
    const email = `guest-${i + 1}@demo.treatme.dev`;
    const name = `${FIRST_NAMES[i % FIRST_NAMES.length]} ${String.fromCharCode(65 + (Math.floor(i / FIRST_NAMES.length) % 26))}.`;
    const user = await opts.prisma.user.upsert({
      where: { email },
      create: { email, displayName: name, emailVerified: true },
      update: {},
      select: { id: true, displayName: true },
    });
    const socket: GuestSocket = connect(opts.baseUrl, {
      transports: ['websocket'],
      // A function, so every reconnect presents a fresh token.
      auth: (cb) => cb({ token: tokenFor(user.id) }),
      reconnectionDelayMax: 5_000,
    });
    guests.push({ id: user.id, name: user.displayName, socket, venueId: null, wantsToReceive: random() < 0.7 });
  }

  const emit = <T>(g: Guest, event: string, payload: unknown): Promise<Ack<T>> =>
    new Promise((res) => {
      const s = g.socket.timeout(10_000) as unknown as { emit(ev: string, p: unknown, cb: (err: Error | null, ack: Ack<T>) => void): void };
      s.emit(event, payload, (err, ack) => res(err ? { ok: false, error: { code: 'UNAVAILABLE', message: 'no ack' } } : ack));
    });

  const checkIn = async (g: Guest, v: VenueView) => {
    // Within ~40 m of the door: well inside the check-in radius.
    const jitter = () => (random() - 0.5) * 0.0007;
    const ack = await emit(g, ClientEvent.CheckIn, {
      venueId: v.id,
      lat: v.latitude + jitter(),
      lng: v.longitude + jitter(),
      wantsToReceive: g.wantsToReceive,
      wantsToBuy: true,
    });
    g.venueId = ack.ok ? v.id : g.venueId;
    if (!ack.ok) log.debug({ guest: g.name, code: ack.error.code }, 'demo check-in refused');
  };

  const night = async (g: Guest) => {
    await sleep(between(0, 30));
    while (running) {
      await checkIn(g, pickVenue());
      // A visit: a few venues in a row, then home for a while.
      for (let stop = 0; running && stop < 1 + Math.floor(random() * 3); stop++) {
        const stay = between(45, 240);
        for (let t = 0; running && t < stay; t += HEARTBEAT_SECONDS) {
          await sleep(Math.min(HEARTBEAT_SECONDS, stay - t));
          if (running) await emit(g, ClientEvent.Heartbeat, {});
        }
        if (running && random() < 0.6) await checkIn(g, pickVenue(g.venueId));
      }
      if (!running) break;
      await emit(g, ClientEvent.Leave, g.venueId ? { venueId: g.venueId } : {});
      g.venueId = null;
      await sleep(between(20, 90));
    }
  };

  /** One treat from order to served drink, with pauses so the tablet shows each step. */
  const treat = async () => {
    const atVenue = guests.filter((g) => g.venueId);
    if (atVenue.length === 0) return;
    const buyer = pick(atVenue);
    const others = atVenue.filter((g) => g !== buyer && g.venueId === buyer.venueId && g.wantsToReceive);
    const venueId = buyer.venueId;
    const staffId = venueId ? staffByVenue.get(venueId) : undefined;
    if (others.length === 0 || !venueId || !staffId) return;
    const recipient = pick(others);
    const venue = venues.find((v) => v.id === venueId)!;
    const item = venue.menu.length ? pick(venue.menu) : undefined;
    const created = await api<{ order: { id: string }; payment: { paymentIntentId: string } }>(
      buyer.id,
      'POST',
      '/api/orders',
      {
        recipientId: recipient.id,
        venueId,
        paymentMethod: 'STRIPE',
        message: pick(MESSAGES),
        ...(item ? { items: [{ menuItemId: item.id, quantity: 1 }] } : { amountCents: 1200 }),
      },
      { 'Idempotency-Key': `demo-${randomUUID()}` },
    );
    await api(buyer.id, 'POST', `/api/dev/payments/${created.payment.paymentIntentId}/succeed`);
    log.info({ buyer: buyer.name, recipient: recipient.name, venue: venue.name }, 'demo: a treat was bought');
    await sleep(between(8, 20));
    if (!running) return;
    const accepted = await api<{ qrCode: string }>(recipient.id, 'POST', `/api/orders/${created.order.id}/accept`);
    await sleep(between(15, 40));
    if (!running) return;
    const scanned = await api<{ redemption: { id: string } }>(staffId, 'POST', '/api/redemptions/scan', { code: accepted.qrCode });
    await sleep(between(3, 8));
    if (!running) return;
    await api(staffId, 'POST', `/api/redemptions/${scanned.redemption.id}/confirm`);
    log.info({ recipient: recipient.name, venue: venue.name }, 'demo: a treat was redeemed');
  };

  const treats = async () => {
    await sleep(40);
    while (running) {
      await treat().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'demo treat failed'));
      await sleep(between(30, 75));
    }
  };

  const loops = [...guests.map((g) => night(g).catch((err: unknown) => log.warn({ err }, 'demo guest stopped'))), treats()];
  log.info({ guests: guests.length, venues: venues.length }, 'demo crowd started');

  return {
    guests: guests.length,
    async stop() {
      running = false;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const g of guests) g.socket.disconnect();
      // Loops blocked on a cleared sleep never resume; the rest finish their current step.
      await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 1_000).unref())]);
    },
  };
}
