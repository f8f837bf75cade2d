import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableName, TTL_ATTRIBUTE } from '../../storage/dynamo-tables';
import { isConditionFailure } from '../../storage/dynamo-errors';
import {
  DEFAULT_IDEMPOTENCY_TIMINGS,
  type BeginResult,
  type IdempotencyStore,
  type IdempotencyTimings,
  type StoredResponse,
} from './idempotency-store';

interface Item {
  key: string;
  fingerprint: string;
  state: 'in_progress' | 'done';
  leaseUntil: number;
  /** Epoch ms: the record's real end. DynamoDB's own TTL (`ttl`, epoch s) deletes it only eventually. */
  expiresAt: number;
  status?: number;
  body?: string;
  [TTL_ATTRIBUTE]: number;
}

/**
 * Cluster mode: the seed's `idempotency` table (PK `key`, TTL `ttl`). Taking a key is one conditional
 * put, so two nodes receiving the same double-click cannot both start it.
 */
export class DynamoIdempotencyStore implements IdempotencyStore {
  private readonly table: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    tablePrefix: string,
    private readonly timings: IdempotencyTimings = DEFAULT_IDEMPOTENCY_TIMINGS,
  ) {
    this.table = tableName(tablePrefix, 'idempotency');
  }

  async begin(key: string, fingerprint: string, now: number): Promise<BeginResult> {
    // A key released by a failed attempt between our put and our read is simply free again: retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      const expiresAt = now + this.timings.ttlMs;
      const item: Item = {
        key,
        fingerprint,
        state: 'in_progress',
        leaseUntil: now + this.timings.leaseMs,
        expiresAt,
        [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000),
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            // TTL deletion lags by up to days, so an expired record must count as absent; a lapsed
            // lease of the same body may be taken over (its holder died).
            ConditionExpression: 'attribute_not_exists(#k) OR #exp <= :now OR (#state = :running AND #lease <= :now AND #fp = :fp)',
            ExpressionAttributeNames: { '#k': 'key', '#exp': 'expiresAt', '#state': 'state', '#lease': 'leaseUntil', '#fp': 'fingerprint' },
            ExpressionAttributeValues: { ':now': now, ':running': 'in_progress', ':fp': fingerprint },
          }),
        );
        return { kind: 'started' };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const existing = (await this.doc.send(new GetCommand({ TableName: this.table, Key: { key }, ConsistentRead: true }))).Item as
        Item | undefined;
      if (!existing || existing.expiresAt <= now) continue;
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.state === 'done' && existing.status !== undefined) {
        return { kind: 'replay', response: { status: existing.status, body: existing.body ? JSON.parse(existing.body) : null } };
      }
      if (existing.leaseUntil > now) return { kind: 'in_progress' };
    }
    return { kind: 'in_progress' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, now: number): Promise<void> {
    const expiresAt = now + this.timings.ttlMs;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { key },
          UpdateExpression: 'SET #state = :done, #status = :status, #body = :body, #exp = :exp, #ttl = :ttl',
          ConditionExpression: '#fp = :fp',
          ExpressionAttributeNames: {
            '#state': 'state',
            '#status': 'status',
            '#body': 'body',
            '#exp': 'expiresAt',
            '#ttl': TTL_ATTRIBUTE,
            '#fp': 'fingerprint',
          },
          ExpressionAttributeValues: {
            ':done': 'done',
            ':status': response.status,
            ':body': JSON.stringify(response.body ?? null),
            ':exp': expiresAt,
            ':ttl': Math.ceil(expiresAt / 1000),
            ':fp': fingerprint,
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async release(key: string, fingerprint: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { key },
          ConditionExpression: '#fp = :fp AND #state = :running',
          ExpressionAttributeNames: { '#fp': 'fingerprint', '#state': 'state' },
          ExpressionAttributeValues: { ':fp': fingerprint, ':running': 'in_progress' },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async clear(): Promise<void> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          ProjectionExpression: '#k',
          ExpressionAttributeNames: { '#k': 'key' },
          ExclusiveStartKey: start,
        }),
      );
      for (const it of page.Items ?? []) await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { key: it.key } }));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async close(): Promise<void> {}
}
