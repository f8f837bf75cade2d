import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { DriverAdapterError, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { createSchemaEngine } from './schema-engine';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MIGRATIONS_DIR = path.join(root, 'prisma/migrations');
export const SCHEMA_PATH = path.join(root, 'prisma/schema.prisma');

/** Where migrations go: a PostgreSQL schema inside a server's database, or an embedded PGlite. */
export type MigrationTarget = { kind: 'postgres'; url: string; schema: string } | { kind: 'pglite'; client: PGlite };

const noFilter: SchemaFilter = { externalTables: [], externalEnums: [] };

/** The migrations folder in the shape the schema engine reads (same as the Prisma CLI builds). */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  const lockfile = await readFile(path.join(dir, 'migration_lock.toml'), 'utf8').catch(() => null);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    folders.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(dir, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (e: Error) => ({ tag: 'error' as const, value: e.message }),
        ),
      },
    })),
  );
  return {
    baseDir: dir,
    // Without a lockfile the engine cannot tell the provider of an empty history.
    lockfile: { path: 'migration_lock.toml', content: lockfile ?? 'provider = "postgresql"\n' },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

const searchPath = (schema: string) => `-c search_path="${schema}"`;

type EngineFactory = { factory: SqlMigrationAwareDriverAdapterFactory; end(): Promise<void> };

/** Gives a connected adapter a dispose() that also runs `after` (drop/close the shadow). */
function withCleanup(adapter: SqlDriverAdapter, after: () => Promise<void>): SqlDriverAdapter {
  const dispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await dispose();
    await after();
  };
  return adapter;
}

/**
 * PrismaPg runs a migration script by splitting it at every `;`, which cuts a function body
 * (`$$ … ; … $$`) or a comment holding a semicolon into broken statements. The Prisma CLI sends a
 * script whole, and so does this: one simple-protocol query that PostgreSQL parses itself and runs as
 * one implicit transaction, so a failing migration leaves nothing half-applied (a statement that
 * cannot run in a transaction, such as CREATE INDEX CONCURRENTLY, needs a migration of its own).
 */
function wholeScripts(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    try {
      await pool.query(script);
    } catch (error) {
      const e = error as pg.DatabaseError;
      throw new DriverAdapterError({
        kind: 'postgres',
        code: e.code ?? 'N/A',
        severity: e.severity ?? 'N/A',
        message: e.message,
        detail: e.detail,
        column: e.column,
        hint: e.hint,
      });
    }
  };
  return adapter;
}

/**
 * The migrations' SQL is unqualified (as Prisma writes it), so a non-public schema is selected
 * through search_path on every connection, and also named to the adapter so the engine keeps its
 * `_prisma_migrations` table and its describer in that schema.
 *
 * The shadow database is built here rather than by PrismaPg.connectToShadowDb: that one spreads
 * `{ ...config, database }`, and with a connectionString pg ignores `database`, so the "shadow"
 * replay would run in the real database.
 */
function postgresFactory(url: string, schema: string): EngineFactory {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: searchPath(schema) });
  const main = new PrismaPg(pool, { schema });
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => wholeScripts(await main.connect(), pool),
    connectToShadowDb: async () => {
      const name = `prisma_shadow_${randomUUID().replace(/-/g, '')}`;
      await pool.query(`CREATE DATABASE "${name}"`);
      const shadowUrl = new URL(url);
      shadowUrl.pathname = `/${name}`;
      // The engine compares the shadow's schema of the same name with the datamodel.
      const shadowPool = new pg.Pool({ connectionString: shadowUrl.toString(), max: 2, options: searchPath(schema) });
      // The shadow database is dropped WITH (FORCE) below: a connection the engine still holds is
      // terminated by that on purpose, and the pool must not turn it into an uncaught exception.
      shadowPool.on('error', () => undefined);
      await shadowPool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const adapter = wholeScripts(await new PrismaPg(shadowPool, { schema }).connect(), shadowPool);
      return withCleanup(adapter, async () => {
        await shadowPool.end();
        await pool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
    },
  };
  return { factory, end: () => pool.end() };
}

function pgliteFactory(client: PGlite): EngineFactory {
  const main = new PrismaPGlite(client);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    // The adapter's own shadow is a PGlite it never closes; this one is closed when disposed.
    connectToShadowDb: async () => {
      const shadow = new PGlite();
      const adapter = await new PrismaPGlite(shadow).connect();
      return withCleanup(adapter, () => shadow.close());
    },
  };
  return { factory, end: async () => {} };
}

async function ensurePostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}

async function withEngine<T>(
  target: MigrationTarget,
  run: (engine: Awaited<ReturnType<typeof createSchemaEngine>>) => Promise<T>,
): Promise<T> {
  if (target.kind === 'postgres') await ensurePostgresSchema(target.url, target.schema);
  const { factory, end } = target.kind === 'postgres' ? postgresFactory(target.url, target.schema) : pgliteFactory(target.client);
  const engine = await createSchemaEngine(factory);
  try {
    return await run(engine);
  } finally {
    engine.free();
    await end();
  }
}

/**
 * Applies every migration in prisma/migrations not yet recorded in the target's
 * `_prisma_migrations`, in folder order; returns the names it applied (none on a second call).
 * Both targets go through the wasm schema engine, so checksums, failure records and the
 * "edited migration" check are exactly Prisma's.
 */
export async function applyMigrations(target: MigrationTarget, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrationsList = await loadMigrations(dir);
  return withEngine(target, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList, filters: noFilter });
    return out.appliedMigrationNames;
  });
}

/**
 * SQL that would bring a database built from the migrations up to schema.prisma; empty when
 * they agree. The engine replays the migrations on a shadow database: for PostgreSQL a temporary
 * database on the same server (the role needs CREATEDB), for PGlite an in-memory instance.
 * (The engine's wasm build refuses `url` diff sources, so the live database itself is not compared.)
 */
export async function diffSchemaAgainstMigrations(
  target: MigrationTarget,
  options: { dir?: string; schemaPath?: string } = {},
): Promise<string> {
  const migrationsList = await loadMigrations(options.dir);
  const content = await readFile(options.schemaPath ?? SCHEMA_PATH, 'utf8');
  return withEngine(target, async (engine) => {
    const result = await engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content }] },
      script: true,
      exitCode: true,
      filters: noFilter,
    });
    // exitCode 2 means "non-empty diff"; the script of an empty diff is only a comment.
    return result.exitCode === 2 ? (result.stdout ?? '').trim() : '';
  });
}
