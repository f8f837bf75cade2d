import type { TestProject } from 'vitest/node';
import { startDynamoLocal, type DynamoLocal } from '../scripts/lib/dynamo-local';
import { ensurePostgres, ensureRedis } from '../scripts/lib/services';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    postgresUrl: string;
    redisUrl: string;
  }
}

let dynamo: DynamoLocal | undefined;

/** One DynamoDB Local for the whole run; each test file isolates itself by table prefix. */
export async function setup(project: TestProject): Promise<void> {
  await Promise.all([ensurePostgres(), ensureRedis()]);
  dynamo = await startDynamoLocal();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('postgresUrl', process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
}
