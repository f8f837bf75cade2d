import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent, type VenueCount } from '../../protocol/events';
import { startCluster, type Cluster } from '../helpers/cluster';
import { collect, emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer } from '../helpers/test-server';

/**
 * Issue #14, "graceful stop stays graceful": SIGTERM is not a death. The draining node answers /ready
 * with 503 (the load balancer stops sending), tells its sockets to reconnect, and its stays are kept:
 * the phones that land on another node keep theirs, and the survivors do not reap the drained node's
 * stays as a dead node's before the grace period has given every phone its chance.
 */
describe('SIGTERM hands over', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(
      2,
      {
        PRESENCE_TIMEOUT_SECONDS: '120',
        PRESENCE_GRACE_SECONDS: '6',
        NODE_LEASE_SECONDS: '3',
        SWEEP_INTERVAL_MS: '500',
        COUNT_COALESCE_MS: '50',
      },
      'handover',
    );
  }, 120_000);
  afterAll(async () => cluster?.close(), 60_000);

  it('ready 503 while draining (in process: the listener is already closed to new connections)', async () => {
    const ts = await startTestServer({}, { label: 'handover-ready' });
    // The app itself, behind a listener of the test's own: what a health check reaching it would get.
    const probe: Server = createServer(ts.server.app);
    await new Promise<void>((res) => probe.listen(0, '127.0.0.1', () => res()));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const stopping = ts.server.shutdown('SIGTERM');
      const res = await fetch(`${url}/ready`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe('draining');
      await stopping;
    } finally {
      await new Promise<void>((res) => probe.close(() => res()));
      await ts.close().catch(() => undefined);
    }
  }, 60_000);

  it('a SIGTERMed node’s guests are told to reconnect; those who do keep their stays, nobody is reaped as dead early', async () => {
    const [a, b] = cluster.nodes;
    const venue = (await cluster.db.prisma.venue.findFirst({ orderBy: { slug: 'asc' } }))!;
    const users = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        cluster.db.prisma.user.create({ data: { displayName: `drained-${i}`, email: `drained-${i}-${Date.now()}@test.treatme.dev` } }),
      ),
    );
    const viewer = await cluster.connect(a!);
    const seen = collect(viewer, 'venue:count');
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const phones = [];
    for (const u of users) {
      const p = await cluster.connect(b!, cluster.tokens.sign(u.id));
      await emitOk(p, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
      phones.push(p);
    }
    const latest = () =>
      seen.reduce<VenueCount | undefined>((m, x) => (x.venueId === venue.id && (!m || x.version > m.version) ? x : m), undefined)?.count;
    await waitUntil(() => latest() === 4, 10_000);

    const notices = phones.map((p) => nextEvent(p, 'server:shutdown'));
    const closed = phones.map((p) => new Promise<string>((res) => p.once('disconnect', (r) => res(r))));
    b!.proc.kill('SIGTERM');
    for (const n of notices) expect(await n).toMatchObject({ reconnectAfterMs: expect.any(Number) });
    for (const c of closed) expect(await c).toBe('transport close');
    expect(await b!.exited).toBe(0);

    // Three phones reconnect to A, as the client does on "transport close"; the fourth never comes back.
    for (let i = 0; i < 3; i++) {
      const p = await cluster.connect(a!, cluster.tokens.sign(users[i]!.id));
      await waitUntil(async () => (await cluster.store.get(users[i]!.id, Date.now()))?.nodeId?.startsWith('nodeA') === true, 5_000);
      p.emit(ClientEvent.Heartbeat, {}, () => undefined);
    }
    // Drained, not dead: past a whole node lease the fourth stay is still kept, waiting out its grace.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await cluster.store.get(users[3]!.id, Date.now())).not.toBeNull();
    expect(latest()).toBe(4);

    // Once the grace period is over, only the phone that never came back is out.
    await waitUntil(() => latest() === 3, 15_000, 100);
    for (let i = 0; i < 3; i++) expect(await cluster.store.get(users[i]!.id, Date.now())).not.toBeNull();
    expect(await cluster.store.get(users[3]!.id, Date.now())).toBeNull();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(latest()).toBe(3);
  }, 90_000);

  it('with SHUTDOWN_DRAIN_MS, a real process answers /ready 503 on its open listener before it closes', async () => {
    cluster.env.SHUTDOWN_DRAIN_MS = '2000';
    const c = await cluster.startNode('drainer');
    delete cluster.env.SHUTDOWN_DRAIN_MS;
    expect((await fetch(`${c.url}/ready`)).status).toBe(200);
    const sockets = await cluster.connect(c);
    const notice = nextEvent(sockets, 'server:shutdown');
    const sentAt = Date.now();
    c.proc.kill('SIGTERM');
    let draining: Response | undefined;
    await waitUntil(async () => {
      draining = await fetch(`${c.url}/ready`);
      return draining.status === 503;
    }, 1_500);
    expect(((await draining!.json()) as { status: string }).status).toBe('draining');
    // The phones are sent elsewhere only after the load balancer has had its window to see the 503.
    await notice;
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_900);
    expect(await c.exited).toBe(0);
  }, 60_000);
});
