import { randomUUID } from 'node:crypto';
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { NODE_ATTRIBUTE, PRESENCE_BY_NODE } from '../storage/dynamo-tables';
import { isCancelledTransaction, isConflict } from '../storage/dynamo-errors';
import { mapLimit } from '../lib/map-limit';
import type { VenueCount, EndedStay } from './presence-store';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What the DynamoDB presence store lends the dead-node cleanup: its table and its one counter write. */
export interface NodeStaysDeps {
  doc: DynamoDBDocumentClient;
  presenceTable: string;
  /** The store's own counter update, so a counter layout change (shards per node…) applies here too. */
  counterOp(venueId: string, delta: number, now: number): TransactItem;
  changesFor(venueIds: string[]): Promise<VenueCount[]>;
}

const ENDS_IN_FLIGHT = 8;
const MAX_ATTEMPTS = 8;

/**
 * Ends every stay still owned by `nodeId` (the `node` attribute, indexed by the sparse GSI byNode).
 * Each end is one transaction: delete the stay conditioned on its owner and on exactly the expiry and
 * last-seen time just read, plus its venue's -1. So a phone that resumed on another node (which rewrites
 * `node` and `lastSeenAt`) keeps its stay, a stay the sweeper or a leave ended first is not ended again,
 * and two survivors racing each other decrement each venue once. The index is eventually consistent:
 * an entry that is stale only costs a read.
 */
export async function endNodeStays(
  d: NodeStaysDeps,
  nodeId: string,
  now: number,
  onEnded?: (ended: EndedStay) => void,
): Promise<VenueCount[]> {
  const keys: { userId: string; venueId: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await d.doc.send(
      new QueryCommand({
        TableName: d.presenceTable,
        IndexName: PRESENCE_BY_NODE,
        KeyConditionExpression: '#node = :node',
        ExpressionAttributeNames: { '#node': NODE_ATTRIBUTE },
        ExpressionAttributeValues: { ':node': nodeId },
        ExclusiveStartKey: start,
      }),
    );
    for (const it of page.Items ?? []) keys.push({ userId: String(it.userId), venueId: String(it.venueId) });
    start = page.LastEvaluatedKey;
  } while (start);

  const venues = new Set<string>();
  await mapLimit(keys, ENDS_IN_FLIGHT, async (key) => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const out = await d.doc.send(new GetCommand({ TableName: d.presenceTable, Key: key, ConsistentRead: true }));
      const item = out.Item;
      if (!item || item[NODE_ATTRIBUTE] !== nodeId) return;
      try {
        await d.doc.send(
          new TransactWriteCommand({
            ClientRequestToken: randomUUID(),
            TransactItems: [
              {
                Delete: {
                  TableName: d.presenceTable,
                  Key: key,
                  ConditionExpression: '#node = :node AND #exp = :exp AND #seen = :seen',
                  ExpressionAttributeNames: { '#node': NODE_ATTRIBUTE, '#exp': 'expiresAt', '#seen': 'lastSeenAt' },
                  ExpressionAttributeValues: { ':node': nodeId, ':exp': item.expiresAt, ':seen': item.lastSeenAt },
                },
              },
              d.counterOp(key.venueId, -1, now),
            ],
          }),
        );
        venues.add(key.venueId);
        onEnded?.({ userId: key.userId, venueId: key.venueId });
        return;
      } catch (err) {
        // Changed under us (a heartbeat renewed it, a resume took it over) or another transaction held
        // it: read again and decide again.
        if (!isCancelledTransaction(err) && !isConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  });
  return venues.size === 0 ? [] : await d.changesFor([...venues]);
}
