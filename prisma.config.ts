import { defineConfig } from 'prisma/config';

// Only `prisma generate` is used from the CLI (offline); migrations go through the wasm schema engine
// in server/storage/migrator.ts, so the url is optional here.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : undefined,
});
