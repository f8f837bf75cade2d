import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Counter } from 'prom-client';

export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

export interface DynamoClientOptions {
  endpoint?: string | undefined;
  region: string;
  /** Counts every command sent through either client (the document client shares the low-level stack). */
  requests?: Counter<'command'> | undefined;
}

/**
 * One low-level client (tables, transactions) and one document client (plain JS values) sharing it.
 * DynamoDB Local accepts any credentials but the SDK refuses to sign without some, so a local endpoint
 * gets dummy ones when the environment has none; against AWS the default provider chain applies.
 */
export function createDynamoClients(opts: DynamoClientOptions): DynamoClients {
  const local = opts.endpoint !== undefined && isLocalEndpoint(opts.endpoint);
  const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(local && !hasEnvCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const requests = opts.requests;
  if (requests) {
    // At the initialize step each command counts once, whatever the retry middleware later repeats;
    // the document client's commands reach this stack under the wrapped low-level command's name.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        requests.labels(commandLabel(context.commandName)).inc();
        return next(args);
      },
      { step: 'initialize', name: 'treatmeCountRequests' },
    );
  }
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc };
}

/** `TransactWriteItemsCommand` → `TransactWriteItems`, the operation name DynamoDB's own metrics use. */
export function commandLabel(commandName: string | undefined): string {
  if (!commandName) return 'unknown';
  return commandName.endsWith('Command') ? commandName.slice(0, -'Command'.length) : commandName;
}

/** Operations that consume write capacity; the rest of what the server sends reads or describes. */
export const DYNAMO_WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);
/** Operations that consume read capacity (table administration, e.g. DescribeTable, is neither). */
export const DYNAMO_READ_COMMANDS: ReadonlySet<string> = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

function isLocalEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]' || !host.includes('.');
  } catch {
    return false;
  }
}
