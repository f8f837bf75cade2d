/**
 * DynamoDB writes per user-hour with 30 s heartbeats: TreatMe (heartbeats kept in the node's memory,
 * the stored lease renewed only when it nears its end) against writing on every heartbeat — the same
 * DynamoDB store against DynamoDB Local, with every write request counted at the SDK.
 * Simulated clock: an hour of heartbeats runs in seconds.
 */
import { startDynamoLocal } from '../scripts/lib/dynamo-local';
import { loadConfig } from '../server/config/config';
import { DynamoPresenceStore } from '../server/presence/dynamo-presence-store';
import { leaseTimings, type PresenceTimings } from '../server/presence/presence-store';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { ensureTables } from '../server/storage/dynamo-tables';
import { ratio, table, writeSection } from './lib/report';

const USERS = 20;
const HOURS = 2;
const HEARTBEAT_MS = 30_000;
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

const dynamo = await startDynamoLocal();
try {
  const { client, doc } = createDynamoClients({ endpoint: dynamo.endpoint, region: 'us-east-1' });
  let writes = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (WRITE_COMMANDS.has(context.commandName ?? '')) writes++;
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );

  async function userHours(label: string, timings: PresenceTimings): Promise<number> {
    const prefix = `bench-${label}-`;
    await ensureTables(client, prefix);
    const store = new DynamoPresenceStore({ doc, tablePrefix: prefix, ...timings });
    writes = 0;
    const t0 = Date.UTC(2026, 10, 27, 22, 0, 0);
    await Promise.all(
      Array.from({ length: USERS }, async (_, u) => {
        const userId = `u${u}`;
        await store.checkIn({ userId, venueId: 'v1', lat: 40.7, lng: -74, now: t0 });
        for (let t = t0 + HEARTBEAT_MS; t <= t0 + HOURS * 3_600_000; t += HEARTBEAT_MS) {
          const { presence } = await store.heartbeat(userId, t);
          if (!presence) throw new Error(`${label}: ${userId} expired while heartbeating at +${(t - t0) / 1000}s`);
        }
      }),
    );
    return writes / (USERS * HOURS);
  }

  const config = loadConfig({});
  const ours = leaseTimings(config);
  const everyBeat: PresenceTimings = {
    timeoutMs: config.PRESENCE_TIMEOUT_SECONDS * 1000,
    ttlMs: 24 * 3_600_000,
    refreshBelowMs: Number.POSITIVE_INFINITY,
  };
  // Our stay is capped at the seed's 4 h TTL; the bench runs 2 h, inside it.
  const baseline = await userHours('every-beat', everyBeat);
  const treatme = await userHours('lease', ours);
  writeSection(
    'heartbeat-writes',
    `## DynamoDB writes per user-hour with ${HEARTBEAT_MS / 1000} s heartbeats

${USERS} users heartbeating for ${HOURS} h (simulated clock) against DynamoDB Local; every write request counted at the SDK (check-ins included).
Baseline = write the expiry on every heartbeat. TreatMe = the node keeps heartbeats in memory and ends a stay exactly
${config.PRESENCE_TIMEOUT_SECONDS} s after the last one; the stored lease (${ours.timeoutMs / 1000} s) is renewed only when under ${(ours.refreshBelowMs ?? 0) / 1000} s remain.

${table([
  {
    measure: 'DynamoDB writes per user-hour',
    baseline: baseline.toFixed(1),
    ours: treatme.toFixed(1),
    ratio: ratio(baseline, treatme),
    goal: '≥ 20×',
  },
])}
`,
  );
} finally {
  await dynamo.stop();
}
