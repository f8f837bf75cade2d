import { inject } from 'vitest';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/storage/database';
import { isolationIds } from './isolation';

export interface TestDatabase {
  url: string;
  schema: string;
  db: Database;
  /** Closes the client and drops the schema; call it in afterAll. */
  drop(): Promise<void>;
}

/** A migrated PostgreSQL schema of its own on the test server, with an open client. */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const url = inject('postgresUrl');
  const { schema } = isolationIds(label);
  const db = await openDatabase({ DATABASE_URL: url, DATABASE_SCHEMA: schema, PGLITE_DATA_DIR: '', PGLITE_IN_MEMORY: false }, undefined, {
    migrate: true,
  });
  return {
    url,
    schema,
    db,
    drop: async () => {
      await db.close();
      await dropSchema(url, schema);
    },
  };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
