import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { tableName } from '../server/storage/dynamo-tables';
import type { Identity } from './replayer';
import type { PresenceModel } from './presence-model';

interface StoredStay {
  venueId: string;
  expiresAt: number;
  checkedInAt: number;
}

/** Every stay in the presence table, expired ones included (the sweeper may still owe their end). */
async function storedStays(endpoint: string, prefix: string): Promise<Map<string, StoredStay>> {
  const { doc, client } = createDynamoClients({ endpoint, region: 'us-east-1' });
  const out = new Map<string, StoredStay>();
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tableName(prefix, 'presence'), ConsistentRead: true, ExclusiveStartKey: start }));
      for (const it of page.Items ?? []) {
        // The per-user pointer item's sort key starts with '#'; venue ids never do.
        if (String(it.venueId).startsWith('#')) continue;
        out.set(String(it.userId), { venueId: String(it.venueId), expiresAt: Number(it.expiresAt), checkedInAt: Number(it.checkedInAt) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * When the judge finds a difference on nodes this tool started, the users behind it: each one whose
 * stay in DynamoDB disagrees with the model, with what the model believes and what the user did.
 */
export async function explainDifferences(input: {
  endpoint: string;
  tablePrefix: string;
  users: Identity[];
  venueIds: string[];
  model: PresenceModel;
  trail: Map<number, string[]>;
  at: number;
  limit?: number;
}): Promise<string[]> {
  const stays = await storedStays(input.endpoint, input.tablePrefix);
  const lines: string[] = [];
  let differing = 0;
  input.users.forEach((id, u) => {
    const stay = stays.get(id.userId);
    const server = stay && stay.expiresAt > input.at ? input.venueIds.indexOf(stay.venueId) : null;
    const model = input.model.venueAt(u, input.at);
    if (server === model) return;
    differing++;
    if (lines.length >= (input.limit ?? 8) * 3) return;
    lines.push(`user ${u}: server v${server}${stay ? ` (expiresAt ${stay.expiresAt}, checked in ${stay.checkedInAt})` : ''}, model ${input.model.describe(u)}`);
    lines.push(`  did: ${(input.trail.get(u) ?? []).slice(-8).join(' | ')}`);
  });
  lines.unshift(`${differing} users where DynamoDB and the model disagree (judged at ${input.at}):`);
  return lines;
}
