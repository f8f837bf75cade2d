import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, diffSchemaAgainstMigrations, MIGRATIONS_DIR, SCHEMA_PATH } from '../../server/storage/migrator';
import { dropSchema } from '../helpers/test-database';
import { isolationIds } from '../helpers/isolation';

const url = inject('postgresUrl');
const { schema } = isolationIds('migrations');

async function tablesIn(name: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [name],
    );
    return rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

/** Table names of every model, read from schema.prisma's @@map lines. */
async function modelTables(): Promise<string[]> {
  const text = await readFile(SCHEMA_PATH, 'utf8');
  const models = text.match(/^model \w+ \{[\s\S]*?^\}/gm) ?? [];
  return models.map((m) => /@@map\("([^"]+)"\)/.exec(m)?.[1] ?? /^model (\w+)/.exec(m)![1]!);
}

describe('migrations', () => {
  afterAll(() => dropSchema(url, schema));

  it('create a table for every model in an empty schema', async () => {
    const applied = await applyMigrations({ kind: 'postgres', url, schema });
    expect(applied.length).toBeGreaterThan(0);
    const tables = await tablesIn(schema);
    for (const table of await modelTables()) expect(tables).toContain(table);
    expect(tables).toContain('_prisma_migrations');
  });

  it('apply nothing the second time', async () => {
    expect(await applyMigrations({ kind: 'postgres', url, schema })).toEqual([]);
  });

  it('leave other schemas alone', async () => {
    expect(await tablesIn('public')).not.toContain('orders');
  });

  it('match schema.prisma exactly (run `npm run db:migration:new -- <name>` when this fails)', async () => {
    const drift = await diffSchemaAgainstMigrations({ kind: 'postgres', url, schema });
    expect(drift).toBe('');
  });

  it('report a schema.prisma change that no migration carries', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'drift-'));
    const schemaPath = path.join(dir, 'schema.prisma');
    await writeFile(schemaPath, `${await readFile(SCHEMA_PATH, 'utf8')}\nmodel Unmigrated {\n  id String @id\n}\n`);
    try {
      const drift = await diffSchemaAgainstMigrations({ kind: 'postgres', url, schema }, { schemaPath });
      expect(drift).toMatch(/CREATE TABLE "Unmigrated"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('run a migration as one script: a function body keeps its semicolons, and a failure leaves nothing behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    const other = isolationIds('migrations-whole').schema;
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const add = async (name: string, sql: string) => {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'migration.sql'), sql);
    };
    try {
      await add(
        '29990101000000_function',
        `-- A comment; with a semicolon and an apostrophe's worth of text.
CREATE FUNCTION "twice"(n int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  n := n * 2;
  RETURN n;
END
$$;
CREATE TABLE "kept" ("id" int);
`,
      );
      expect(await applyMigrations({ kind: 'postgres', url, schema: other }, dir)).toContain('29990101000000_function');
      await add('29990101000001_broken', 'CREATE TABLE "half_done" ("id" int);\nSELECT 1 / 0;\n');
      await expect(applyMigrations({ kind: 'postgres', url, schema: other }, dir)).rejects.toThrow(/division by zero/);
      const tables = await tablesIn(other);
      expect(tables).toContain('kept');
      expect(tables).not.toContain('half_done');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropSchema(url, other);
    }
  });
});
