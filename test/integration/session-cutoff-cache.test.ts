import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSessionCutoffs } from '../../server/auth/session-cutoffs';
import { freePort } from '../../scripts/lib/dynamo-local';
import { startRedis } from '../helpers/private-redis';
import { waitUntil } from '../helpers/socket';

/**
 * The per-node cache of session cutoffs, on a Redis of the test's own (its connections are killed):
 * two nodes' cutoff readers, each with its own command and subscriber connections, as two servers have.
 */
let port: number;
let redis: ChildProcess;
let admin: Redis;
const opened: Redis[] = [];
const logger = pino({ level: 'silent' });
const channel = 'test:session-cutoffs';
const KEEP_MS = 3_600_000;

async function node() {
  const url = `redis://127.0.0.1:${port}`;
  const main = new Redis(url, { keyPrefix: 'test:', maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  const sub = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  opened.push(main, sub);
  for (const c of [main, sub]) c.on('error', () => undefined);
  // Asked before the reader subscribes: CLIENT is refused on a subscribed connection.
  const subId = Number(await sub.client('ID'));
  const cutoffs = new RedisSessionCutoffs(main, KEEP_MS, logger, { sub, channel });
  await waitUntil(() => cutoffs.cacheLive, 5_000);
  return { cutoffs, subId };
}

beforeAll(async () => {
  port = await freePort();
  redis = await startRedis(port);
  admin = new Redis(`redis://127.0.0.1:${port}`);
  admin.on('error', () => undefined);
  opened.push(admin);
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  redis?.kill('SIGKILL');
});

describe('session cutoffs cached per node, invalidated over pub/sub', () => {
  it('answers a repeated read from memory, and a cut on one node reaches the other before cut() returns', async () => {
    const a = await node();
    const b = await node();
    expect(await b.cutoffs.get('u1')).toBeNull();
    const reads = b.cutoffs.reads;
    for (let i = 0; i < 5; i++) expect(await b.cutoffs.get('u1')).toBeNull();
    expect(b.cutoffs.reads).toBe(reads);

    const at = Date.now();
    await a.cutoffs.cut('u1', at);
    // No wait: cut() returned after every subscribed node applied the message.
    expect(await b.cutoffs.get('u1')).toBe(at);
    expect(b.cutoffs.reads).toBe(reads);
    // An earlier cut never moves a node's answer back (Redis keeps the later one, and so does the cache).
    await a.cutoffs.cut('u1', at - 1_000);
    expect(await b.cutoffs.get('u1')).toBe(at);
    expect(await admin.get('test:cutoff:u1')).toBe(String(at));
  });

  it('drops the cache when its subscription is lost, and reads Redis until it is subscribed again', async () => {
    const a = await node();
    const b = await node();
    expect(await b.cutoffs.get('u2')).toBeNull();
    const reads = b.cutoffs.reads;
    expect(await b.cutoffs.get('u2')).toBeNull();
    expect(b.cutoffs.reads).toBe(reads);

    // B's subscriber connection dies; a cut published now never reaches B.
    await admin.client('KILL', 'ID', String(b.subId));
    await waitUntil(() => !b.cutoffs.cacheLive, 5_000, 5);
    const at = Date.now();
    await a.cutoffs.cut('u2', at);
    // B answered "no cutoff" from memory before; it must not any more.
    expect(await b.cutoffs.get('u2')).toBe(at);
    expect(b.cutoffs.reads).toBeGreaterThan(reads);

    // Subscribed again: the cache is used again, and it holds what Redis says.
    await waitUntil(() => b.cutoffs.cacheLive, 5_000);
    expect(await b.cutoffs.get('u2')).toBe(at);
    const after = b.cutoffs.reads;
    expect(await b.cutoffs.get('u2')).toBe(at);
    expect(b.cutoffs.reads).toBe(after);
    // And a new cut reaches it over the new subscription.
    await a.cutoffs.cut('u2', at + 5);
    expect(await b.cutoffs.get('u2')).toBe(at + 5);
    expect(b.cutoffs.reads).toBe(after);
  });

  it('with Redis gone, a node answers its own cuts only and keeps nothing; back, it reads Redis again', async () => {
    const b = await node();
    expect(await b.cutoffs.get('u3')).toBeNull();
    redis.kill('SIGKILL');
    await waitUntil(() => !b.cutoffs.cacheLive, 5_000, 5);
    const own = Date.now();
    await expect(b.cutoffs.cut('u4', own)).rejects.toThrow();
    expect(await b.cutoffs.get('u4')).toBe(own);
    redis = await startRedis(port);
    await waitUntil(() => b.cutoffs.cacheLive, 10_000);
    // Written while B was not listening (another node, after the outage): B reads it, not its old memory.
    const writer = new Redis(`redis://127.0.0.1:${port}`, { keyPrefix: 'test:' });
    opened.push(writer);
    writer.on('error', () => undefined);
    await writer.set('cutoff:u3', String(own + 1));
    expect(await b.cutoffs.get('u3')).toBe(own + 1);
  }, 30_000);
});
