import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { startCluster, type Cluster } from '../helpers/cluster';
import { emitOk, nextEvent } from '../helpers/socket';
import { startTestServer } from '../helpers/test-server';

describe('bad configuration', () => {
  it('exits non-zero with one readable message naming every bad variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, DATABASE_URL: 'mysql://nope', TREATME_MODE: 'galaxy', PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Invalid configuration:/);
    for (const name of ['DATABASE_URL', 'TREATME_MODE', 'PORT']) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('readiness with a store down', () => {
  it('reports Redis down as not ready while /health stays up', async () => {
    const ts = await startTestServer({ REDIS_URL: 'redis://127.0.0.1:1' }, { label: 'redis-down' });
    try {
      expect((await fetch(`${ts.url}/health`)).status).toBe(200);
      const ready = await fetch(`${ts.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks.redis?.ok).toBe(false);
      expect(body.checks.database?.ok).toBe(true);
      expect(body.checks.dynamodb?.ok).toBe(true);
      const metrics = await (await fetch(`${ts.url}/metrics`)).text();
      expect(metrics).toMatch(/treatme_redis_up\{client="main"\} 0/);
    } finally {
      await ts.close();
    }
  });

  it('reports DynamoDB down as not ready', async () => {
    const ts = await startTestServer(
      { DYNAMODB_ENDPOINT: 'http://127.0.0.1:1', DYNAMODB_CREATE_TABLES: 'false' },
      { label: 'dynamo-down' },
    );
    try {
      const ready = await fetch(`${ts.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks.dynamodb?.ok).toBe(false);
      expect(body.checks.redis?.ok).toBe(true);
    } finally {
      await ts.close();
    }
  });
});

describe('graceful shutdown on SIGTERM', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(1, { LOG_LEVEL: 'info' }, 'shutdown');
  }, 120_000);
  afterAll(async () => cluster?.close(), 60_000);

  it('tells sockets to reconnect elsewhere, keeps their check-ins, and exits 0 within 10 s', async () => {
    const node = cluster.nodes[0]!;
    const venue = (await cluster.db.prisma.venue.findFirst({ orderBy: { slug: 'asc' } }))!;
    const user = await cluster.db.prisma.user.create({ data: { displayName: 'leaving', email: `leaving-${Date.now()}@test.treatme.dev` } });
    const phone = await cluster.connect(node, cluster.tokens.sign(user.id));
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    const notice = nextEvent(phone, 'server:shutdown');
    const closed = new Promise<string>((res) => phone.once('disconnect', (r) => res(r)));
    const started = Date.now();
    node.proc.kill('SIGTERM');
    expect(await notice).toMatchObject({ reconnectAfterMs: expect.any(Number) });
    // "transport close" is the reason socket.io clients reconnect on by themselves.
    expect(await closed).toBe('transport close');
    expect(await node.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Draining is not leaving: the stay survives for the phone to resume on another node.
    expect(await cluster.store.get(user.id, Date.now())).not.toBeNull();
    expect(node.output.join('')).toContain('shutdown complete');
  });
});
