#!/usr/bin/env node
// `npm test`: the whole suite from a clean clone. Makes sure the generated Prisma client exists, type-checks
// the project, lints it (`npm run lint`), then runs vitest (whose global setup starts DynamoDB Local, and
// PostgreSQL/Redis if down).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync('server/generated/prisma')) run(process.execPath, ['scripts/prisma-generate.mjs']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json']);
// `npm run lint` is the one definition of the lint step (ESLint, then `prettier --check`).
run('npm', ['run', '--silent', 'lint']);
if (!existsSync('web/dist/map.js') || !existsSync('web/dist/tablet.js')) {
  if (existsSync('scripts/build-web.mjs')) run(process.execPath, ['scripts/build-web.mjs']);
}
run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)]);
