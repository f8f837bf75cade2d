import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../storage/dynamo-errors';

/**
 * One row per node incarnation: "I hold sockets, and I am alive until `leaseUntil`". A lapsed row is
 * claimed by one survivor (`reaping`), which ends the stays the node held and marks it `dead`; a
 * node that drained on SIGTERM asks for the same treatment once its grace period is over (`leaseUntil`
 * set to then). A node that finds its own row no longer `alive` knows it was declared dead.
 */
export interface NodeLease {
  /** The incarnation's key: NODE_ID plus a boot id, so a restarted node is never mistaken for its past. */
  key: string;
  nodeId: string;
  state: 'alive' | 'reaping' | 'dead';
  leaseUntil: number;
  renewedAt: number;
  /** While `reaping`: which survivor, and until when its claim holds (after that another may take over). */
  claimedBy?: string;
  claimUntil?: number;
}

export type RenewOutcome = 'renewed' | 'declared-dead';

export interface NodeLeaseStore {
  /** Extends this node's lease to `leaseUntil`, creating it on first use. Never revives a row another node claimed. */
  renew(key: string, nodeId: string, now: number, leaseUntil: number): Promise<RenewOutcome>;
  list(): Promise<NodeLease[]>;
  /** Takes a lapsed lease (or a stalled claim) for `by`; false when another survivor got it or the node renewed. */
  claim(lease: NodeLease, by: string, now: number, claimUntil: number): Promise<boolean>;
  /** The reap is done. */
  markDead(key: string, by: string, now: number): Promise<void>;
}

/** Embedded mode: one node, which is alive while it can ask. */
export class MemoryNodeLeases implements NodeLeaseStore {
  private readonly rows = new Map<string, NodeLease>();

  async renew(key: string, nodeId: string, now: number, leaseUntil: number): Promise<RenewOutcome> {
    const row = this.rows.get(key);
    if (row && row.state !== 'alive') return 'declared-dead';
    this.rows.set(key, { key, nodeId, state: 'alive', leaseUntil, renewedAt: now });
    return 'renewed';
  }

  async list(): Promise<NodeLease[]> {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  async claim(lease: NodeLease, by: string, _now: number, claimUntil: number): Promise<boolean> {
    const row = this.rows.get(lease.key);
    if (!row || row.state !== lease.state || row.leaseUntil !== lease.leaseUntil || row.claimUntil !== lease.claimUntil) return false;
    this.rows.set(lease.key, { ...row, state: 'reaping', claimedBy: by, claimUntil });
    return true;
  }

  async markDead(key: string): Promise<void> {
    const row = this.rows.get(key);
    if (row) this.rows.set(key, { ...row, state: 'dead' });
  }
}

/** The partition of the presence table that holds the leases (user ids never start with '#'). */
const LEASES_PK = '#nodes';
/** Dead rows are kept a day for the record, then DynamoDB's TTL removes them. */
const DEAD_ROW_TTL_S = 86_400;

/**
 * Cluster mode: the rows live in DynamoDB, beside the stays they govern, so a Redis outage (the adapter,
 * the locks) never makes a live node look dead; only a node that cannot reach DynamoDB for a whole lease
 * can be, and it then cannot write stays either. Each request is bounded so a renewal never hangs past
 * its lease.
 */
export class DynamoNodeLeases implements NodeLeaseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly requestTimeoutMs: number,
  ) {}

  private opts() {
    return { abortSignal: AbortSignal.timeout(this.requestTimeoutMs) };
  }

  async renew(key: string, nodeId: string, now: number, leaseUntil: number): Promise<RenewOutcome> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { userId: LEASES_PK, venueId: key },
          UpdateExpression: 'SET #state = :alive, #until = :until, #renewed = :now, #nodeId = :nodeId, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(userId) OR #state = :alive',
          ExpressionAttributeNames: {
            '#state': 'state',
            '#until': 'leaseUntil',
            '#renewed': 'renewedAt',
            '#nodeId': 'nodeId',
            '#ttl': 'ttl',
          },
          ExpressionAttributeValues: {
            ':alive': 'alive',
            ':until': leaseUntil,
            ':now': now,
            ':nodeId': nodeId,
            ':ttl': Math.ceil(leaseUntil / 1000) + DEAD_ROW_TTL_S,
          },
        }),
        this.opts(),
      );
      return 'renewed';
    } catch (err) {
      if (isConditionFailure(err)) return 'declared-dead';
      throw err;
    }
  }

  async list(): Promise<NodeLease[]> {
    const out: NodeLease[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'userId = :pk',
          ExpressionAttributeValues: { ':pk': LEASES_PK },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
        this.opts(),
      );
      for (const it of page.Items ?? []) {
        out.push({
          key: String(it.venueId),
          nodeId: String(it.nodeId),
          state: it.state === 'reaping' || it.state === 'dead' ? it.state : 'alive',
          leaseUntil: Number(it.leaseUntil),
          renewedAt: Number(it.renewedAt),
          ...(it.claimedBy !== undefined ? { claimedBy: String(it.claimedBy), claimUntil: Number(it.claimUntil) } : {}),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async claim(lease: NodeLease, by: string, _now: number, claimUntil: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { userId: LEASES_PK, venueId: lease.key },
          UpdateExpression: 'SET #state = :reaping, #by = :by, #claimUntil = :claimUntil',
          // Exactly the row we judged lapsed: a renewal in between (a node that was only slow) wins.
          ConditionExpression:
            lease.state === 'alive' ? '#state = :alive AND #until = :until' : '#state = :reaping AND #claimUntil = :oldClaim',
          ExpressionAttributeNames: {
            '#state': 'state',
            '#by': 'claimedBy',
            '#claimUntil': 'claimUntil',
            ...(lease.state === 'alive' ? { '#until': 'leaseUntil' } : {}),
          },
          ExpressionAttributeValues: {
            ':reaping': 'reaping',
            ':by': by,
            ':claimUntil': claimUntil,
            ...(lease.state === 'alive' ? { ':alive': 'alive', ':until': lease.leaseUntil } : { ':oldClaim': lease.claimUntil ?? 0 }),
          },
        }),
        this.opts(),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async markDead(key: string, by: string, now: number): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { userId: LEASES_PK, venueId: key },
          UpdateExpression: 'SET #state = :dead, #deadAt = :now',
          ConditionExpression: '#state = :reaping AND #by = :by',
          ExpressionAttributeNames: { '#state': 'state', '#deadAt': 'deadAt', '#by': 'claimedBy' },
          ExpressionAttributeValues: { ':dead': 'dead', ':reaping': 'reaping', ':now': now, ':by': by },
        }),
        this.opts(),
      )
      .catch((err: unknown) => {
        // Another survivor took a claim we held too long over: it finishes the job.
        if (!isConditionFailure(err)) throw err;
      });
  }

  /** Test hook: a node's row as stored. */
  async get(key: string): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { userId: LEASES_PK, venueId: key }, ConsistentRead: true })))
      .Item;
  }
}
