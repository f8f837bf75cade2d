/**
 * `npm run dynamo:tables` — creates the DynamoDB tables for DYNAMODB_TABLE_PREFIX (missing ones only),
 * waits until they are ACTIVE and enables TTL. Safe to run on every deploy.
 */
import { createDynamoClients } from '../server/storage/dynamo-client';
import { scriptConfig } from './lib/script-config';
import { ensureTables } from '../server/storage/dynamo-tables';

async function main(): Promise<number> {
  const config = scriptConfig();
  if (!config) return 1;
  if (!config.dynamo) {
    console.error('DynamoDB is not configured: set DYNAMODB_ENDPOINT (DynamoDB Local, e.g. `npm run dynamo:local`) or AWS_REGION.');
    return 1;
  }
  const { endpoint, region, tablePrefix } = config.dynamo;
  const where = endpoint ?? `AWS ${region}`;
  const { client } = createDynamoClients({ endpoint, region });
  try {
    console.log(`DynamoDB tables with prefix "${tablePrefix}" at ${where}:`);
    const report = await ensureTables(client, tablePrefix, (line) => console.log(`  ${line}`));
    const changes = report.created.length + report.indexesAdded.length + report.ttlEnabled.length;
    console.log(changes === 0 ? 'Nothing to do: all tables already exist with TTL enabled.' : `Done: ${changes} change(s).`);
    return 0;
  } catch (err) {
    console.error(`Cannot set up DynamoDB tables at ${where}: ${describeError(err)}`);
    return 1;
  } finally {
    client.destroy();
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED' || err.name === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(err.message)) {
    return `unreachable (${code ?? err.message}) — is DynamoDB running? (npm run dynamo:local)`;
  }
  return `${err.name}: ${err.message}`;
}

process.exitCode = await main();
