import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../protocol/http/auth';
import { ApnsProvider } from '../../server/devices/apns-provider';
import { FcmProvider, ServiceAccountKey } from '../../server/devices/fcm-provider';
import type { ProviderPushSender } from '../../server/devices/provider-push-sender';
import { createDynamoClients, type DynamoClients } from '../../server/storage/dynamo-client';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { ApnsDouble, FcmDouble } from '../helpers/push-doubles';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { readFile } from 'node:fs/promises';

let ts: TestServer;
let apns: ApnsDouble;
let fcm: FcmDouble;
let dynamo: DynamoClients;

beforeAll(async () => {
  apns = await new ApnsDouble().start();
  fcm = await new FcmDouble().start();
  ts = await startTestServer(
    { ...apns.env(), ...fcm.env(), PUSH_TIMEOUT_MS: '300', PUSH_RETRY_BASE_MS: '20', PUSH_MAX_ATTEMPTS: '4' },
    { label: 'push_delivery' },
  );
  dynamo = createDynamoClients({ endpoint: ts.config.dynamo!.endpoint, region: ts.config.dynamo!.region });
});
afterAll(async () => {
  dynamo?.client.destroy();
  await ts?.close();
  await apns?.stop();
  await fcm?.stop();
});

const sender = () => ts.server.services.push as ProviderPushSender;
const apnsToken = () => randomUUID().replace(/-/g, '').repeat(2);
const fcmToken = () => `fcm-${randomUUID()}:APA91b${randomUUID().replace(/-/g, '')}`;
const push = {
  title: 'You got a drink!',
  body: 'Open TreatMe',
  kind: 'order_received' as const,
  collapseId: 'order-1',
  data: { orderId: 'order-1' },
};

async function device(me: SessionResponse, platform: 'IOS' | 'ANDROID', extra: Record<string, unknown> = {}) {
  const token = platform === 'IOS' ? apnsToken() : fcmToken();
  const res = await api(ts, me.accessToken).post('/api/devices', { token, platform, ...extra });
  expect(res.status).toBe(200);
  return token;
}
const inDynamo = async (userId: string, token: string) =>
  (await dynamo.doc.send(new GetCommand({ TableName: `${ts.config.DYNAMODB_TABLE_PREFIX}devices`, Key: { userId, token } }))).Item;
const inPostgres = (token: string) => ts.server.ctx.db.prisma.device.findUnique({ where: { token } });
async function metric(provider: string, outcome: string): Promise<number> {
  const m = await ts.server.ctx.metrics.registry.getSingleMetric('treatme_push_deliveries_total')?.get();
  return m?.values.find((v) => v.labels.provider === provider && v.labels.outcome === outcome)?.value ?? 0;
}

let me: SessionResponse;
beforeEach(async () => {
  me = await signIn(ts, uniqueEmail('pushee'));
});

describe('APNs over HTTP/2 with token auth', () => {
  it('delivers with a valid ES256 provider JWT and the APNs headers, in the device language', async () => {
    const token = await device(me, 'IOS', { locale: 'es-MX' });
    const sentBefore = await metric('apns', 'sent');
    expect(await sender().send(me.user.id, push)).toEqual({ devices: 1 });
    await sender().queue.drained();
    const [got] = apns.to(token);
    expect(got).toBeDefined();
    expect(got!.headers).toMatchObject({
      'apns-topic': apns.topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-collapse-id': 'order-1',
    });
    expect(JSON.parse(got!.auth)).toMatchObject({ iss: apns.teamId, iat: expect.any(Number) });
    expect(got!.payload).toMatchObject({ aps: { alert: { title: '¡Te invitaron a una copa!' } }, orderId: 'order-1' });
    expect(await metric('apns', 'sent')).toBe(sentBefore + 1);
  });

  it('skips devices whose push setting is off', async () => {
    const on = await device(me, 'IOS');
    const off = await device(me, 'IOS', { pushEnabled: false });
    expect(await sender().send(me.user.id, push)).toEqual({ devices: 1 });
    await sender().queue.drained();
    expect(apns.to(on)).toHaveLength(1);
    expect(apns.to(off)).toHaveLength(0);
  });

  it('removes a token APNs calls dead (410 Unregistered, 400 BadDeviceToken) from PostgreSQL and DynamoDB', async () => {
    const gone = await device(me, 'IOS');
    const bad = await device(me, 'IOS');
    const alive = await device(me, 'IOS');
    apns.scripts.set(gone, [{ status: 410, reason: 'Unregistered' }]);
    apns.scripts.set(bad, [{ status: 400, reason: 'BadDeviceToken' }]);
    expect(await inDynamo(me.user.id, gone)).toBeDefined();
    await sender().send(me.user.id, push);
    await sender().queue.drained();
    for (const t of [gone, bad]) {
      expect(await inPostgres(t)).toBeNull();
      expect(await inDynamo(me.user.id, t)).toBeUndefined();
    }
    expect(await inPostgres(alive)).not.toBeNull();
    expect((await api(ts, me.accessToken).get('/api/devices')).body.devices.map((d: { token: string }) => d.token)).toEqual([alive]);
  });

  it('retries 429 and 503 with backoff, then delivers once', async () => {
    const token = await device(me, 'IOS');
    apns.scripts.set(token, [
      { status: 429, reason: 'TooManyRequests' },
      { status: 503, reason: 'ServiceUnavailable', retryAfter: '0' },
      { status: 200 },
    ]);
    await sender().send(me.user.id, push);
    await sender().queue.drained();
    expect(apns.attempts.filter((a) => a.token === token).map((a) => a.status)).toEqual([429, 503, 200]);
    expect(apns.to(token)).toHaveLength(1);
  });

  it('a provider that never answers blocks nothing: send returns at once, other devices are served, the push gives up', async () => {
    const stuck = await device(me, 'IOS');
    apns.scripts.set(stuck, ['hang']);
    const started = Date.now();
    await sender().send(me.user.id, push);
    expect(Date.now() - started).toBeLessThan(250);
    // Meanwhile the server answers requests and another user's push goes out.
    const other = await signIn(ts, uniqueEmail('other'));
    const otherToken = await device(other, 'IOS');
    await sender().send(other.user.id, push);
    const t0 = Date.now();
    while (apns.to(otherToken).length === 0 && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(apns.to(otherToken)).toHaveLength(1);
    expect(apns.attempts.filter((a) => a.token === stuck).length).toBeLessThan(4);

    const gaveUp = await metric('apns', 'gave_up');
    await sender().queue.drained();
    expect(apns.attempts.filter((a) => a.token === stuck)).toHaveLength(4);
    expect(await metric('apns', 'gave_up')).toBe(gaveUp + 1);
    expect(await inPostgres(stuck)).not.toBeNull();
  });

  it('reuses the provider JWT and signs a new one before it is an hour old', async () => {
    let clock = Date.now();
    const provider = new ApnsProvider({
      origin: apns.origin,
      keyPem: await readFile(apns.keyFile, 'utf8'),
      keyId: apns.keyId,
      teamId: apns.teamId,
      topic: apns.topic,
      timeoutMs: 1_000,
      now: () => clock,
    });
    try {
      const a = await provider.providerToken();
      clock += 30 * 60_000;
      expect(await provider.providerToken()).toBe(a);
      clock += 25 * 60_000;
      const b = await provider.providerToken();
      expect(b).not.toBe(a);
      const token = apnsToken();
      // The double checks iat against its real clock: a JWT signed "55 minutes from now" is still accepted.
      expect(await provider.send(token, { title: 't', body: 'b', data: {} })).toEqual({ outcome: 'sent' });
    } finally {
      await provider.close();
    }
  });
});

describe('FCM HTTP v1 with a service-account OAuth2 token', () => {
  it('exchanges a JWT-bearer assertion for an access token, caches it, and delivers', async () => {
    const a = await device(me, 'ANDROID', { locale: 'de-DE' });
    const b = await device(me, 'ANDROID');
    await sender().send(me.user.id, push);
    await sender().send(me.user.id, push);
    await sender().queue.drained();
    expect(fcm.to(a)).toHaveLength(2);
    expect(fcm.to(b)).toHaveLength(2);
    expect(fcm.to(a)[0]!.payload).toMatchObject({
      notification: { title: 'Du hast einen Drink bekommen!' },
      data: { orderId: 'order-1' },
      android: { collapse_key: 'order-1' },
    });
    expect(fcm.to(b)[0]!.payload).toMatchObject({ notification: { title: 'You got a drink!' } });
    // One token for every send so far in this file's server (cached until it expires).
    expect(new Set(fcm.received.map((r) => r.auth)).size).toBe(1);
  });

  it('fetches a new access token only when the cached one expires', async () => {
    let clock = Date.now();
    const account = ServiceAccountKey.parse(JSON.parse(await readFile(fcm.keyFile, 'utf8')));
    const provider = new FcmProvider({ account, apiBase: fcm.base, tokenUrl: fcm.tokenUrl, timeoutMs: 1_000, now: () => clock });
    const token = fcmToken();
    await provider.send(token, { title: 't', body: 'b', data: {} });
    await provider.send(token, { title: 't', body: 'b', data: {} });
    expect(provider.tokenFetches).toBe(1);
    clock += 3_600_000;
    expect(await provider.send(token, { title: 't', body: 'b', data: {} })).toEqual({ outcome: 'sent' });
    expect(provider.tokenFetches).toBe(2);
  });

  it('removes a token FCM calls UNREGISTERED from PostgreSQL and DynamoDB', async () => {
    const dead = await device(me, 'ANDROID');
    fcm.scripts.set(dead, [{ status: 404, reason: 'UNREGISTERED' }]);
    await sender().send(me.user.id, push);
    await sender().queue.drained();
    expect(await inPostgres(dead)).toBeNull();
    expect(await inDynamo(me.user.id, dead)).toBeUndefined();
    expect(await metric('fcm', 'dead')).toBeGreaterThanOrEqual(1);
  });

  it('retries 429 (honouring Retry-After) and 500', async () => {
    const token = await device(me, 'ANDROID');
    fcm.scripts.set(token, [{ status: 429, retryAfter: '0' }, { status: 500 }, { status: 200 }]);
    await sender().send(me.user.id, push);
    await sender().queue.drained();
    expect(fcm.attempts.filter((a) => a.token === token).map((a) => a.status)).toEqual([429, 500, 200]);
    expect(fcm.to(token)).toHaveLength(1);
  });

  it('a hanging FCM blocks neither the caller nor other deliveries', async () => {
    const stuck = await device(me, 'ANDROID');
    const fine = await device(me, 'IOS');
    fcm.scripts.set(stuck, ['hang']);
    const started = Date.now();
    expect(await sender().send(me.user.id, push)).toEqual({ devices: 2 });
    expect(Date.now() - started).toBeLessThan(250);
    const t0 = Date.now();
    while (apns.to(fine).length === 0 && Date.now() - t0 < 2_000) await new Promise((r) => setTimeout(r, 10));
    expect(apns.to(fine)).toHaveLength(1);
    expect((await api(ts, me.accessToken).get('/api/devices')).status).toBe(200);
    await sender().queue.drained();
    expect(fcm.attempts.filter((a) => a.token === stuck)).toHaveLength(4);
    expect(fcm.to(stuck)).toHaveLength(0);
  });
});
