import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../protocol/http/auth';
import type { LogPushSender } from '../../server/devices/push-sender';
import { createDynamoClients, type DynamoClients } from '../../server/storage/dynamo-client';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
let dynamo: DynamoClients;
let clock = Date.now();
beforeAll(async () => {
  ts = await startTestServer({ DEVICE_TTL_DAYS: '30' }, { label: 'devices', now: () => clock });
  dynamo = createDynamoClients({ endpoint: ts.config.dynamo!.endpoint, region: ts.config.dynamo!.region });
});
afterAll(async () => {
  dynamo?.client.destroy();
  await ts?.close();
});

const as = (s: SessionResponse) => api(ts, s.accessToken);
const apnsToken = () => randomUUID().replace(/-/g, '').repeat(2);
const dynamoItem = async (userId: string, token: string) =>
  (await dynamo.doc.send(new GetCommand({ TableName: `${ts.config.DYNAMODB_TABLE_PREFIX}devices`, Key: { userId, token } }))).Item;

describe('devices', () => {
  it('registers a push token in PostgreSQL and DynamoDB with a TTL that each app open pushes forward', async () => {
    const me = await signIn(ts, uniqueEmail('phone'));
    const token = apnsToken();
    const res = await as(me).post('/api/devices', { token, platform: 'IOS', appVersion: '1.4.0', osVersion: '17.5' });
    expect(res.status).toBe(200);
    expect(res.body.device).toMatchObject({ token, platform: 'IOS', appVersion: '1.4.0', osVersion: '17.5', pushEnabled: true });
    const first = await dynamoItem(me.user.id, token);
    expect(first).toMatchObject({ platform: 'IOS', appVersion: '1.4.0' });
    expect(first!.ttl).toBeCloseTo(Math.ceil((clock + 30 * 86_400_000) / 1000), -1);

    clock += 3 * 86_400_000;
    await as(me).post('/api/devices', { token, platform: 'IOS', appVersion: '1.5.0', osVersion: '17.5' });
    const second = await dynamoItem(me.user.id, token);
    expect(second!.ttl).toBeGreaterThan(first!.ttl as number);
    expect(second!.appVersion).toBe('1.5.0');
    const list = await as(me).get('/api/devices');
    expect(list.body.devices).toHaveLength(1);
    expect(list.body.devices[0].appVersion).toBe('1.5.0');
    expect(await ts.server.ctx.db.prisma.auditLog.count({ where: { userId: me.user.id, action: 'device.registered' } })).toBe(1);
  });

  it('the push sender reaches a user’s enabled devices only', async () => {
    const me = await signIn(ts, uniqueEmail('push'));
    await as(me).post('/api/devices', { token: apnsToken(), platform: 'IOS' });
    await as(me).post('/api/devices', { token: `fcm:${randomUUID()}`, platform: 'ANDROID', pushEnabled: false });
    const sender = ts.server.services.push as LogPushSender;
    expect(await sender.send(me.user.id, { title: 'Hi', body: 'A drink is waiting' })).toEqual({ devices: 1 });
    expect(sender.recent.filter((p) => p.userId === me.user.id).map((p) => p.platform)).toEqual(['IOS']);
  });

  it('moves a token to the account that registers it last, and forgets it for the previous one', async () => {
    const [a, b] = await Promise.all([signIn(ts, uniqueEmail('old')), signIn(ts, uniqueEmail('new'))]);
    const token = apnsToken();
    await as(a).post('/api/devices', { token, platform: 'ANDROID' });
    await as(b).post('/api/devices', { token, platform: 'ANDROID' });
    expect((await as(a).get('/api/devices')).body.devices).toEqual([]);
    expect((await as(b).get('/api/devices')).body.devices).toHaveLength(1);
    expect(await dynamoItem(a.user.id, token)).toBeUndefined();
    expect(await dynamoItem(b.user.id, token)).toBeDefined();
  });

  it('unregisters only my own token: someone else’s answers 404 and stays', async () => {
    const [mine, theirs] = await Promise.all([signIn(ts, uniqueEmail('mine')), signIn(ts, uniqueEmail('theirs'))]);
    const token = apnsToken();
    await as(theirs).post('/api/devices', { token, platform: 'WEB' });
    expect((await as(mine).delete(`/api/devices/${encodeURIComponent(token)}`)).status).toBe(404);
    expect((await as(theirs).get('/api/devices')).body.devices).toHaveLength(1);
    expect((await as(theirs).delete(`/api/devices/${encodeURIComponent(token)}`)).status).toBe(204);
    expect((await as(theirs).get('/api/devices')).body.devices).toEqual([]);
    expect(await dynamoItem(theirs.user.id, token)).toBeUndefined();
  });

  it('validates the body and requires a token', async () => {
    const me = await signIn(ts, uniqueEmail('bad'));
    for (const body of [
      { token: apnsToken(), platform: 'BLACKBERRY' },
      { platform: 'IOS' },
      { token: 'has space in it', platform: 'IOS' },
      { token: apnsToken(), platform: 'IOS', admin: true },
    ]) {
      const res = await as(me).post('/api/devices', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
    expect((await api(ts).post('/api/devices', { token: apnsToken(), platform: 'IOS' })).status).toBe(401);
    expect((await api(ts).get('/api/devices')).status).toBe(401);
  });
});
