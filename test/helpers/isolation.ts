import { randomBytes } from 'node:crypto';

/**
 * A per-file namespace so test files run side by side on one PostgreSQL, Redis and DynamoDB Local:
 * a PostgreSQL schema, a Redis key prefix and a DynamoDB table prefix that no other file uses.
 */
export function isolationIds(label = 'test') {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 20);
  const id = `${slug}_${randomBytes(4).toString('hex')}`;
  return {
    id,
    schema: `t_${id}`,
    redisPrefix: `t:${id}:`,
    tablePrefix: `t-${id.replace(/_/g, '-')}-`,
  };
}
