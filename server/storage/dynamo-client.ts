import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/**
 * One low-level client (tables, transactions) and one document client (plain JS values) sharing it.
 * DynamoDB Local accepts any credentials but the SDK refuses to sign without some, so a local endpoint
 * gets dummy ones when the environment has none; against AWS the default provider chain applies.
 */
export function createDynamoClients(opts: { endpoint?: string | undefined; region: string }): DynamoClients {
  const local = opts.endpoint !== undefined && isLocalEndpoint(opts.endpoint);
  const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY);
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(local && !hasEnvCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc };
}

function isLocalEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === '[::1]' || !host.includes('.');
  } catch {
    return false;
  }
}
