import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer(
    { RATE_LIMIT_AUTH_PER_MINUTE: '3', RATE_LIMIT_WRITES_PER_MINUTE: '4', SEED_DEMO_DATA: 'false' },
    { label: 'rate_limits' },
  );
});
afterAll(() => ts?.close());

describe('rate limits', () => {
  it('limits sign-in attempts per IP with 429 RATE_LIMITED and Retry-After, whatever the destination', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await api(ts).post('/api/auth/code/request', { channel: 'email', destination: uniqueEmail(`ip${i}`) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(last!.body.error.code).toBe('RATE_LIMITED');
    const retry = Number(last!.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Counted in Redis, so every node of a cluster spends from the same budget.
    const keys = await ts.server.ctx.redis!.main.keys(`${ts.config.REDIS_KEY_PREFIX}rl:auth-ip*`);
    expect(keys.length).toBe(1);
  });

  it('limits writes per user, not per IP: another user still gets through', async () => {
    const [a, b] = await Promise.all([signIn(ts, uniqueEmail('w1')), signIn(ts, uniqueEmail('w2'))]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await api(ts, a.accessToken).post('/api/groups', { name: `g${i}` })).status);
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    // Reads are not writes.
    expect((await api(ts, a.accessToken).get('/api/groups')).status).toBe(200);
    expect((await api(ts, b.accessToken).post('/api/groups', { name: 'mine' })).status).toBe(201);
    expect(await ts.server.ctx.db.prisma.group.count()).toBe(5);
  });
});
