/**
 * `npm run presence:rebuild-journal` — makes PostgreSQL's durable presence rows (`presences`) agree with
 * the presence store in DynamoDB, the hot truth: after a node was killed with a journal flush unwritten,
 * or when `treatme_presence_journal_rows_total{outcome="dropped"}` rose. Same environment as the server;
 * safe to run while nodes serve (a row a node rewrote since it was read is left alone). Every node also
 * does this at start-up and every PRESENCE_JOURNAL_REBUILD_INTERVAL_MS.
 */
import pino from 'pino';
import { createMetrics } from '../server/observability/metrics';
import { buildDynamoPresence } from '../server/presence/build-presence';
import { dynamoPresenceSettings } from '../server/settings';
import { createDynamoClients } from '../server/storage/dynamo-client';
import { scriptConfig } from './lib/script-config';
import { PresenceJournal } from '../server/presence/presence-journal';
import { openDatabase } from '../server/storage/database';

async function main(): Promise<number> {
  const config = scriptConfig();
  if (!config) return 1;
  if (!config.dynamo || !config.DATABASE_URL) {
    console.error(
      'Needs DATABASE_URL and DynamoDB (DYNAMODB_ENDPOINT or AWS_REGION): an embedded server keeps its presences in memory and rebuilds at its own start-up.',
    );
    return 1;
  }
  const logger = pino({ level: 'warn' });
  const db = await openDatabase(config, logger);
  const metrics = createMetrics();
  const dynamo = createDynamoClients({ endpoint: config.dynamo.endpoint, region: config.dynamo.region, requests: metrics.dynamoRequests });
  const presence = await buildDynamoPresence(dynamoPresenceSettings(config, config.dynamo), { logger, metrics, dynamo });
  try {
    const venueIds = (await db.prisma.venue.findMany({ select: { id: true } })).map((v) => v.id);
    const journal = new PresenceJournal(db.prisma, logger);
    const r = await journal.rebuild(presence.store, venueIds);
    console.log(
      `presence journal: ${r.stays} unexpired stays in the store, ${r.rows} rows before; ${r.upserted} rows written or corrected, ${r.deleted} deleted`,
    );
    return 0;
  } finally {
    await presence.store.close();
    dynamo.client.destroy();
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
