import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';

/**
 * The four DynamoDB tables of the seed, defined once. Names are `<prefix><name>`.
 *
 * presence       PK userId, SK venueId. Besides one item per (user, venue) stay, each user has one
 *                "user pointer" item (SK `#user`) whose `rev` serialises that user's check-ins, moves
 *                and leaves: DynamoDB cannot condition on "no other item in this partition", so the
 *                one-venue-per-user invariant is enforced by conditioning every membership change on it.
 *                GSI byVenue (venueId, expiresAt): who is at venue X, unexpired first-class via the key.
 *                GSI byExpiry (expShard, expiresAt): the sweeper's expiry index (see dynamo-presence-store).
 *                GSI byNode (node, userId): the stays each node holds the sockets of (node-reaper.ts).
 *                All three are sparse: the pointer item has neither expiresAt, expShard nor node.
 *                Node leases live in this table too, in the partition `#nodes` (node-leases.ts).
 * venue-counts   PK venueId, SK shard (number): one counter item per shard, summed on read.
 * devices        PK userId, SK token; GSI byToken (token).
 * idempotency    PK key.
 * presence, devices and idempotency carry a TTL attribute `ttl` (epoch seconds).
 */
export const TABLE_NAMES = ['presence', 'venue-counts', 'devices', 'idempotency'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export const PRESENCE_BY_VENUE = 'byVenue';
export const PRESENCE_BY_EXPIRY = 'byExpiry';
/** Sparse GSI on the stays' `node` attribute: a dead node's stays, for the survivor that ends them. */
export const PRESENCE_BY_NODE = 'byNode';
export const NODE_ATTRIBUTE = 'node';
export const DEVICES_BY_TOKEN = 'byToken';
export const TTL_ATTRIBUTE = 'ttl';

export function tableName(prefix: string, table: TableName): string {
  return `${prefix}${table}`;
}

export interface TableSpec {
  input: Omit<CreateTableCommandInput, 'TableName'>;
  ttl: boolean;
}

const S = (name: string): AttributeDefinition => ({ AttributeName: name, AttributeType: 'S' });
const N = (name: string): AttributeDefinition => ({ AttributeName: name, AttributeType: 'N' });

export const SPECS: Record<TableName, TableSpec> = {
  presence: {
    ttl: true,
    input: {
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S('userId'), S('venueId'), N('expiresAt'), S('expShard'), S('node')],
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'venueId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: PRESENCE_BY_VENUE,
          KeySchema: [
            { AttributeName: 'venueId', KeyType: 'HASH' },
            { AttributeName: 'expiresAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: PRESENCE_BY_EXPIRY,
          KeySchema: [
            { AttributeName: 'expShard', KeyType: 'HASH' },
            { AttributeName: 'expiresAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: PRESENCE_BY_NODE,
          KeySchema: [
            { AttributeName: 'node', KeyType: 'HASH' },
            { AttributeName: 'userId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    },
  },
  'venue-counts': {
    ttl: false,
    input: {
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S('venueId'), N('shard')],
      KeySchema: [
        { AttributeName: 'venueId', KeyType: 'HASH' },
        { AttributeName: 'shard', KeyType: 'RANGE' },
      ],
    },
  },
  devices: {
    ttl: true,
    input: {
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S('userId'), S('token')],
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'token', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: DEVICES_BY_TOKEN,
          KeySchema: [{ AttributeName: 'token', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
  },
  idempotency: {
    ttl: true,
    input: {
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [S('key')],
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
    },
  },
};

export interface EnsureTablesReport {
  created: string[];
  indexesAdded: string[];
  ttlEnabled: string[];
  unchanged: string[];
}

type Log = (line: string) => void;

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

/** Polls until the table and all its indexes are ACTIVE (a GSI being backfilled cannot be queried). */
async function waitActive(client: DynamoDBClient, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await describe(client, name);
    const indexesActive = (t?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (t?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${name} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Creates the missing tables (and indexes added to a table's definition since it was created), waits
 * until they are ACTIVE and enables TTL. Idempotent: a second run changes nothing and says so.
 */
export async function ensureTables(client: DynamoDBClient, prefix: string, log: Log = () => {}): Promise<EnsureTablesReport> {
  const report: EnsureTablesReport = { created: [], indexesAdded: [], ttlEnabled: [], unchanged: [] };
  await Promise.all(
    TABLE_NAMES.map(async (table) => {
      const name = tableName(prefix, table);
      const spec = SPECS[table];
      let changed = false;
      const existing = await describe(client, name);
      if (!existing) {
        try {
          await client.send(new CreateTableCommand({ ...spec.input, TableName: name }));
          report.created.push(name);
          log(`created table ${name}`);
          changed = true;
        } catch (err) {
          // Another process created it between our describe and create: theirs is the same definition.
          if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
        }
      } else {
        const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
        for (const gsi of spec.input.GlobalSecondaryIndexes ?? []) {
          if (have.has(gsi.IndexName)) continue;
          await waitActive(client, name);
          await addIndex(client, name, spec, gsi);
          report.indexesAdded.push(`${name}.${gsi.IndexName}`);
          log(`added index ${gsi.IndexName} to ${name}`);
          changed = true;
        }
      }
      await waitActive(client, name);
      if (spec.ttl) {
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
        const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
        if (status !== 'ENABLED' && status !== 'ENABLING') {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
            }),
          );
          report.ttlEnabled.push(name);
          log(`enabled TTL on ${name}.${TTL_ATTRIBUTE}`);
          changed = true;
        }
      }
      if (!changed) {
        report.unchanged.push(name);
        log(`table ${name} already up to date`);
      }
    }),
  );
  return report;
}

async function addIndex(client: DynamoDBClient, name: string, spec: TableSpec, gsi: GlobalSecondaryIndex): Promise<void> {
  const keyAttrs = new Set((gsi.KeySchema ?? []).map((k) => k.AttributeName));
  await client.send(
    new UpdateTableCommand({
      TableName: name,
      AttributeDefinitions: (spec.input.AttributeDefinitions ?? []).filter((a) => keyAttrs.has(a.AttributeName)),
      GlobalSecondaryIndexUpdates: [{ Create: gsi }],
    }),
  );
}

/** Drops the tables of one prefix (tests). Missing tables are fine. */
export async function deleteTables(client: DynamoDBClient, prefix: string): Promise<void> {
  await Promise.all(
    TABLE_NAMES.map(async (table) => {
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName(prefix, table) }));
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
      }
    }),
  );
}
