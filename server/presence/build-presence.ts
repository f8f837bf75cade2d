import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { ReadinessCheck } from '../context';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { DynamoClients } from '../storage/dynamo-client';
import { ensureTables, tableName } from '../storage/dynamo-tables';
import { DynamoPresenceStore, stableShard } from './dynamo-presence-store';
import type { PresenceStore, PresenceTimings } from './presence-store';

export interface BuiltPresence {
  store: PresenceStore;
  readiness: ReadinessCheck[];
}

/** The DynamoDB presence store's tables and write batching (DYNAMODB_* variables). */
export interface DynamoPresenceSettings {
  tablePrefix: string;
  /** Creates missing tables at start (DynamoDB Local, dev set-ups). */
  createTables: boolean;
  counterShards: number;
  /** This node's name: nodes start their counter writes on different shards by it. */
  nodeId: string;
  writeWindowMs: number;
  writeSlots: number;
  timings: PresenceTimings;
}

/**
 * The DynamoDB presence store, chosen by the composition root when DynamoDB is configured (the
 * in-process store otherwise). The DynamoDB client is the process's one client, owned (and
 * destroyed) by whoever built it.
 */
export async function buildDynamoPresence(
  s: DynamoPresenceSettings,
  deps: { logger: Logger; metrics: Metrics; dynamo: DynamoClients },
): Promise<BuiltPresence> {
  const { dynamo } = deps;
  if (s.createTables) {
    const report = await ensureTables(dynamo.client, s.tablePrefix);
    deps.logger.info(report, 'dynamodb tables ensured');
  }
  const store = new DynamoPresenceStore({
    doc: dynamo.doc,
    tablePrefix: s.tablePrefix,
    counterShards: s.counterShards,
    // Nodes start their counter writes on different shards (by node id), so their batches rarely meet on one item.
    counterShard: stableShard(s.nodeId, s.counterShards),
    writeWindowMs: s.writeWindowMs,
    writeSlots: s.writeSlots,
    onWriteBatch: (n) => deps.metrics.dynamoWriteBatch.observe(n),
    onWriteWait: (ms) => deps.metrics.dynamoWriteWait.observe(ms / 1000),
    ...s.timings,
  });
  const presenceTable = tableName(s.tablePrefix, 'presence');
  return {
    store,
    readiness: [
      { name: 'dynamodb', check: async () => void (await dynamo.client.send(new DescribeTableCommand({ TableName: presenceTable }))) },
    ],
  };
}
