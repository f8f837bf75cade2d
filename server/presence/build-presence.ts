import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config';
import type { ReadinessCheck } from '../context';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { DynamoClients } from '../storage/dynamo-client';
import { ensureTables, tableName } from '../storage/dynamo-tables';
import { DynamoPresenceStore, stableShard } from './dynamo-presence-store';
import { memoryLock, redisLock, type Lock } from '../lib/locks';
import { MemoryPresenceStore } from './memory-presence-store';
import type { PresenceStore } from './presence-store';
import { leaseTimings } from './presence-store';

export interface BuiltPresence {
  store: PresenceStore;
  locks: Lock;
  readiness: ReadinessCheck[];
}

/**
 * DynamoDB when configured, the in-process store otherwise; Redis leases when clustered. The DynamoDB
 * client is the process's one client, owned (and destroyed) by whoever built it.
 */
export async function buildPresence(
  config: Config,
  deps: { logger: Logger; metrics: Metrics; redis: Redis | undefined; dynamo: DynamoClients | undefined },
): Promise<BuiltPresence> {
  const timings = leaseTimings(config);
  const locks = deps.redis ? redisLock(deps.redis, 'locks:') : memoryLock();
  if (!config.dynamo) {
    return { store: new MemoryPresenceStore(timings), locks, readiness: [] };
  }
  const dynamo = deps.dynamo;
  if (!dynamo) throw new Error('DynamoDB is configured but no client was passed in');
  if (config.DYNAMODB_CREATE_TABLES) {
    const report = await ensureTables(dynamo.client, config.dynamo.tablePrefix);
    deps.logger.info(report, 'dynamodb tables ensured');
  }
  const store = new DynamoPresenceStore({
    doc: dynamo.doc,
    tablePrefix: config.dynamo.tablePrefix,
    counterShards: config.DYNAMODB_COUNTER_SHARDS,
    // Nodes start their counter writes on different shards (by node id), so their batches rarely meet on one item.
    counterShard: stableShard(config.nodeId, config.DYNAMODB_COUNTER_SHARDS),
    writeWindowMs: config.DYNAMODB_WRITE_WINDOW_MS,
    writeSlots: config.DYNAMODB_WRITE_SLOTS,
    onWriteBatch: (n) => deps.metrics.dynamoWriteBatch.observe(n),
    onWriteWait: (ms) => deps.metrics.dynamoWriteWait.observe(ms / 1000),
    ...timings,
  });
  const presenceTable = tableName(config.dynamo.tablePrefix, 'presence');
  return {
    store,
    locks,
    readiness: [
      { name: 'dynamodb', check: async () => void (await dynamo.client.send(new DescribeTableCommand({ TableName: presenceTable }))) },
    ],
  };
}
