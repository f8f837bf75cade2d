import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { freePort } from '../../scripts/lib/dynamo-local';
import { startCluster, type Cluster } from '../helpers/cluster';
import { startRedis } from '../helpers/private-redis';
import { emitOk, waitUntil } from '../helpers/socket';
import type { TestClient } from '../helpers/test-server';

let cluster: Cluster;
let redis: ChildProcess;
let redisPort: number;
let venueId: string;
const guests: { id: string; token: string; phone: TestClient }[] = [];
let beat: NodeJS.Timeout;

// The defaults that matter here: a 10 s node lease, a heartbeat timeout longer than any pause below.
beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  cluster = await startCluster(
    3,
    {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      NODE_LEASE_SECONDS: '10',
      PRESENCE_TIMEOUT_SECONDS: '60',
      SWEEP_INTERVAL_MS: '500',
      COUNT_COALESCE_MS: '50',
    },
    'nofalsedeath',
  );
  const venue = await cluster.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } });
  venueId = venue.id;
  const b = cluster.nodes[1]!;
  for (let i = 0; i < 10; i++) {
    const u = await cluster.db.prisma.user.create({
      data: { displayName: `steady-${i}`, email: `steady-${i}-${Date.now()}@test.treatme.dev` },
    });
    const token = cluster.tokens.sign(u.id);
    const phone = await cluster.connect(b, token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId, lat: venue.latitude, lng: venue.longitude });
    guests.push({ id: u.id, token, phone });
  }
  beat = setInterval(() => {
    for (const g of guests) if (g.phone.connected) g.phone.emit(ClientEvent.Heartbeat, {}, () => undefined);
  }, 2_000);
}, 180_000);
afterAll(async () => {
  clearInterval(beat);
  const b = cluster?.nodes[1];
  if (b?.proc.exitCode === null) b.proc.kill('SIGCONT');
  await cluster?.close();
  redis?.kill('SIGKILL');
}, 60_000);

const count = async () => (await cluster.store.getCounts([venueId])).get(venueId)!.count;
const stillIn = async () => (await Promise.all(guests.map((g) => cluster.store.get(g.id, Date.now())))).filter((p) => p !== null).length;

async function metricSum(name: string): Promise<number> {
  let sum = 0;
  for (const n of cluster.nodes) {
    if (n.proc.exitCode !== null) continue;
    const text = await (await fetch(`${n.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    sum += line ? Number(line.split(' ')[1]) : 0;
  }
  return sum;
}

describe('a node that is only slow is not dead', () => {
  it('SIGSTOP 5 s then SIGCONT: nobody’s stay ends', async () => {
    const b = cluster.nodes[1]!;
    expect(await count()).toBe(10);
    b.proc.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 5_000));
    b.proc.kill('SIGCONT');
    // Longer than a lease and a reap after the pause began.
    await new Promise((r) => setTimeout(r, 12_000));
    expect(await count()).toBe(10);
    expect(await stillIn()).toBe(10);
    expect(await metricSum('treatme_nodes_declared_dead_total')).toBe(0);
    for (const g of guests) expect(await emitOk(g.phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId } });
  }, 60_000);

  it('Redis down 10 s: nobody’s stay ends', async () => {
    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 10_000));
    redis = await startRedis(redisPort);
    await new Promise((r) => setTimeout(r, 8_000));
    expect(await count()).toBe(10);
    expect(await stillIn()).toBe(10);
    expect(await metricSum('treatme_nodes_declared_dead_total')).toBe(0);
    for (const g of guests) expect(await emitOk(g.phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId } });
  }, 60_000);

  it('a node stalled past its lease is declared dead once, notices when it wakes, and does not resurrect the ended stays', async () => {
    const b = cluster.nodes[1]!;
    const handedBack = guests.map((g) => new Promise<string>((res) => g.phone.once('disconnect', (reason) => res(reason))));
    b.proc.kill('SIGSTOP');
    // Its guests are ended by a survivor within a lease + 5 s of the stall.
    await waitUntil(async () => (await count()) === 0, 16_000, 200);
    expect(await stillIn()).toBe(0);
    b.proc.kill('SIGCONT');
    // Awake again, it finds its lease taken and sends its phones to reconnect…
    await Promise.all(handedBack).catch((err: unknown) => {
      const lines = b.output
        .join('')
        .split('\n')
        .filter((l) => /lease|dead|handed/.test(l))
        .slice(-10)
        .join('\n');
      throw new Error(`${String(err)}\nnode B said:\n${lines}`);
    });
    await waitUntil(async () => (await metricSum('treatme_node_self_declared_dead_total')) === 1, 10_000, 200);
    // …which learn that their stay ended (and may check in again); nothing comes back by itself.
    for (const g of guests) {
      g.phone = await cluster.connect(b, g.token);
      expect(await emitOk(g.phone, ClientEvent.Heartbeat, {})).toEqual({ presence: null });
    }
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await count()).toBe(0);
    expect(await metricSum('treatme_nodes_declared_dead_total')).toBe(1);
    expect(await metricSum('treatme_node_stays_ended_total')).toBe(10);
    // The node serves again under its new incarnation: a check-in there counts and stays.
    const venue = await cluster.db.prisma.venue.findUniqueOrThrow({ where: { id: venueId } });
    await emitOk(guests[0]!.phone, ClientEvent.CheckIn, { venueId, lat: venue.latitude, lng: venue.longitude });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await count()).toBe(1);
  }, 90_000);
});
