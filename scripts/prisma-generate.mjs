// Runs `prisma generate` offline (postinstall, `npm ci` on a fresh clone, `npm run prisma:generate`).
// Prisma 7 only checks that a schema-engine binary path exists before generating; it never runs it
// for `generate`, and cannot download one here, so any existing file will do.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = path.join(root, 'prisma/schema.prisma');
const marker = path.join(root, 'server/generated/prisma/client.ts');
const force = process.argv.includes('--force');

// Skipping is safe only when the client was generated after the last schema edit by the same
// prisma version: the generator writes every file in one go, and package-lock pins the version.
const lockfile = path.join(root, 'node_modules/prisma/package.json');
if (!force && existsSync(marker)) {
  const generatedAt = statSync(marker).mtimeMs;
  if (generatedAt > statSync(schema).mtimeMs && (!existsSync(lockfile) || generatedAt > statSync(lockfile).mtimeMs)) {
    console.log('prisma client is up to date (server/generated/prisma); pass --force to regenerate');
    process.exit(0);
  }
}

const prismaCli = path.join(root, 'node_modules/prisma/build/index.js');
if (!existsSync(prismaCli)) {
  console.error('prisma-generate: node_modules/prisma is missing; run `npm ci` first');
  process.exit(1);
}

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], { cwd: root, env, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    `prisma-generate: \`prisma generate\` failed (exit ${result.status ?? result.signal}); the server cannot start without server/generated/prisma`,
  );
  process.exit(result.status || 1);
}
