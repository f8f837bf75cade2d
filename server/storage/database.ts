import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { applyMigrations } from './migrator';
import { PrismaClient } from './prisma-types';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * Apply pending migrations to PostgreSQL before opening (tests do). Production leaves this off
   * and runs `npm run db:migrate` once per deploy, so several nodes starting together do not race.
   * Embedded PGlite is always migrated: it has a single owner process.
   */
  migrate?: boolean;
}

type Logger = { info(o: object, m?: string): void };

/** Named as the environment names them: scripts and tests open databases beside servers. */
export interface DatabaseSettings {
  /** Set: PostgreSQL; unset: embedded PGlite. */
  DATABASE_URL?: string | undefined;
  DATABASE_SCHEMA: string;
  PGLITE_DATA_DIR: string;
  PGLITE_IN_MEMORY: boolean;
}

export async function openDatabase(settings: DatabaseSettings, logger?: Logger, options: OpenDatabaseOptions = {}): Promise<Database> {
  return settings.DATABASE_URL
    ? openPostgres(settings.DATABASE_URL, settings.DATABASE_SCHEMA, logger, options)
    : openPglite(settings.PGLITE_IN_MEMORY ? undefined : settings.PGLITE_DATA_DIR, logger);
}

async function openPostgres(url: string, schema: string, logger: Logger | undefined, options: OpenDatabaseOptions): Promise<Database> {
  if (options.migrate) {
    const applied = await applyMigrations({ kind: 'postgres', url, schema });
    logger?.info({ schema, applied }, applied.length ? 'database migrations applied' : 'database schema up to date');
  }
  // `schema` makes the client qualify every table; search_path does the same for raw SQL.
  const adapter = new PrismaPg({ connectionString: url, options: `-c search_path="${schema}"` }, { schema });
  const prisma = new PrismaClient({ adapter });
  await prisma.$connect();
  logger?.info({ kind: 'postgres', schema }, 'database open');
  return {
    prisma,
    kind: 'postgres',
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close: () => prisma.$disconnect(),
  };
}

async function openPglite(dataDir: string | undefined, logger: Logger | undefined): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const client = dataDir ? new PGlite(path.resolve(dataDir)) : new PGlite();
  await client.waitReady;
  try {
    const applied = await applyMigrations({ kind: 'pglite', client });
    if (applied.length) logger?.info({ applied }, 'embedded database migrations applied');
  } catch (e) {
    await client.close();
    throw e;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
  logger?.info({ kind: 'pglite', dataDir: dataDir ?? 'memory' }, 'database open');
  return {
    prisma,
    kind: 'pglite',
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      if (!client.closed) await client.close();
    },
  };
}
