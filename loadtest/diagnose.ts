import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { tableName } from '../server/storage/dynamo-tables';
import { DevPresenceLookupResponse, type DevPresenceLookupBody } from '../protocol/http/dev-presence';
import type { Identity } from './replayer';
import type { PresenceModel } from './presence-model';

export interface StoredStay {
  venueId: string;
  expiresAt: number;
  checkedInAt: number;
  node?: string | null;
}

export type StayReader = () => Promise<Map<string, StoredStay>>;

/** Every stay in the presence table, expired ones included (the sweeper may still owe their end). */
export function dynamoStays(endpoint: string, prefix: string): StayReader {
  return () => storedStays(endpoint, prefix);
}

/**
 * The stays a dev-mode server holds for the night's users (POST /api/dev/presence/lookup): the embedded
 * node's store lives in its process, so this is the only way to read it from here.
 */
export function serverStays(url: string, users: Identity[]): StayReader {
  return async () => {
    const res = await fetch(`${url}/api/dev/presence/lookup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userIds: users.map((u) => u.userId) } satisfies DevPresenceLookupBody),
    });
    if (!res.ok) throw new Error(`${url} answered ${res.status} (is DEV_MODE on?)`);
    const body = DevPresenceLookupResponse.parse(await res.json());
    return new Map(
      body.stays.map((s) => [s.userId, { venueId: s.venueId, expiresAt: s.expiresAt, checkedInAt: s.checkedInAt, node: s.node }]),
    );
  };
}

async function storedStays(endpoint: string, prefix: string): Promise<Map<string, StoredStay>> {
  const { doc, client } = createDynamoClients({ endpoint, region: 'us-east-1' });
  const out = new Map<string, StoredStay>();
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({ TableName: tableName(prefix, 'presence'), ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const it of page.Items ?? []) {
        // The per-user pointer item's sort key starts with '#'; venue ids never do.
        if (String(it.venueId).startsWith('#')) continue;
        out.set(String(it.userId), {
          venueId: String(it.venueId),
          expiresAt: Number(it.expiresAt),
          checkedInAt: Number(it.checkedInAt),
          node: typeof it.node === 'string' ? it.node : null,
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * When the judge finds a difference, the users behind it: each one whose stay in the server's store
 * disagrees with the model, with what the model believes and what the user did.
 */
export async function explainDifferences(input: {
  readStays: StayReader;
  /** Where the stays were read, for the report line. */
  source: string;
  users: Identity[];
  venueIds: string[];
  model: PresenceModel;
  trail: Map<number, string[]>;
  at: number;
  limit?: number;
}): Promise<string[]> {
  const stays = await input.readStays();
  const lines: string[] = [];
  let differing = 0;
  input.users.forEach((id, u) => {
    const stay = stays.get(id.userId);
    const server = stay && stay.expiresAt > input.at ? input.venueIds.indexOf(stay.venueId) : null;
    const model = input.model.venueAt(u, input.at);
    if (server === model) return;
    differing++;
    if (lines.length >= (input.limit ?? 8) * 3) return;
    lines.push(
      `user ${u}: server v${server}${stay ? ` (expiresAt ${stay.expiresAt}, checked in ${stay.checkedInAt}${stay.node ? `, node ${stay.node}` : ''})` : ''}, model ${input.model.describe(u)}`,
    );
    lines.push(`  did: ${(input.trail.get(u) ?? []).slice(-8).join(' | ')}`);
  });
  lines.unshift(`${differing} users where ${input.source} and the model disagree (judged at ${input.at}):`);
  return lines;
}
