import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/**
 * Redis connections that survive an outage: they retry forever with capped backoff, log one line per
 * state change (not per retry), and expose up/outage metrics so an operator sees Redis is down.
 */
export function createRedis(url: string, name: string, logger: Logger, metrics: Metrics, extra: RedisOptions = {}): Redis {
  const log = logger.child({ redis: name });
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    retryStrategy: (attempt) => Math.min(200 * 2 ** Math.min(attempt, 5), 5_000),
    reconnectOnError: () => true,
    ...extra,
  });
  let state: 'starting' | 'ready' | 'down' = 'starting';
  metrics.redisUp.labels(name).set(0);
  client.on('ready', () => {
    if (state !== 'ready') log.info({ was: state }, 'redis ready');
    state = 'ready';
    metrics.redisUp.labels(name).set(1);
  });
  const lost = (err?: Error) => {
    if (closing.has(client)) return;
    if (state === 'ready') {
      log.error({ err: err?.message }, 'redis connection lost; retrying');
      metrics.redisOutages.labels(name).inc();
    } else if (state === 'starting') {
      log.error({ err: err?.message }, 'redis unreachable; retrying');
    }
    if (state !== 'down') metrics.redisUp.labels(name).set(0);
    state = 'down';
  };
  client.on('error', (err: Error) => lost(err));
  client.on('close', () => lost());
  client.on('end', () => log.info('redis connection closed'));
  return client;
}

const closing = new WeakSet<Redis>();

/** Closes on purpose (shutdown): no "connection lost" alarm for it. */
export async function closeRedis(client: Redis): Promise<void> {
  closing.add(client);
  // QUIT on a connection that is down would wait in the offline queue for a Redis that may never return.
  if (client.status !== 'ready') return client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.quit(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('quit timed out')), 1_000)))]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
