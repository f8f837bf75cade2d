/**
 * Usage: npm run db:migrate
 * Applies pending prisma/migrations to DATABASE_URL (schema DATABASE_SCHEMA). Production runs this
 * before starting nodes; the server itself migrates only embedded PGlite and tests.
 */
import { loadConfig } from '../server/config/config';
import { applyMigrations } from '../server/storage/migrator';

const config = loadConfig();
if (!config.DATABASE_URL) {
  console.error('DATABASE_URL is not set: embedded PGlite is migrated by the server on start, nothing to do here.');
  process.exit(1);
}
const applied = await applyMigrations({ kind: 'postgres', url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
if (applied.length === 0) console.log(`schema "${config.DATABASE_SCHEMA}" is up to date`);
else for (const name of applied) console.log(`applied ${name}`);
