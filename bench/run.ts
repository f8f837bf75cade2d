/**
 * `npm run bench`: runs every benchmark (each compares TreatMe with a baseline in the same run),
 * prints their figures and assembles BENCHMARKS.md from the sections they write to bench/results/.
 * `npm run bench -- fanout heartbeat-writes` runs only those.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const BENCHES: { name: string; script: string; args?: string[]; needs?: string }[] = [
  { name: 'fanout', script: 'bench/fanout-bench.ts' },
  { name: 'heartbeat-writes', script: 'bench/heartbeat-writes-bench.ts', needs: 'DynamoDB Local (Java 17)' },
  // Issue 19: cold and warm, this code beside VENUES_READS=per-request; this code's server profiled.
  {
    name: 'venues',
    script: 'bench/venues-bench.ts',
    args: ['--profile', '.cache/venues-profiles'],
    needs: 'PostgreSQL and Redis on localhost',
  },
  { name: 'loadtest', script: 'bench/loadtest-bench.ts', needs: 'PostgreSQL, Redis, DynamoDB Local' },
  { name: 'sockets', script: 'bench/sockets-bench.ts' },
  { name: 'checkin-cost', script: 'bench/checkin-cost-bench.ts', needs: 'PostgreSQL, Redis, DynamoDB Local' },
  // Issue 13: store ceiling, 1 and 3 nodes, embedded, each beside the previous code; nodes profiled.
  {
    name: 'capacity',
    script: 'bench/capacity-bench.ts',
    args: ['--profile', '.cache/capacity-profiles'],
    needs: 'PostgreSQL, Redis, DynamoDB Local',
  },
  // The issue's full-size night (`npm run loadtest -- --users 5000 --venues 200 --speed 60 --nodes 3`),
  // against the naive server too; each replay is bounded so a box that cannot keep up still reports.
  {
    name: 'friday-night',
    script: 'bench/loadtest-bench.ts',
    args: [
      '--skip',
      'latency',
      '--users',
      '5000',
      '--venues',
      '200',
      '--minutes',
      '360',
      '--speed',
      '60',
      '--orders',
      '--summary',
      '--max-duration',
      '420',
      '--title',
      '# The full-size Friday night',
      '--out',
      'bench/results/friday-night.md',
    ],
    needs: 'PostgreSQL, Redis, DynamoDB Local',
  },
];

const only = process.argv.slice(2);
const selected = BENCHES.filter((b) => existsSync(b.script) && (only.length === 0 || only.includes(b.name)));
const failed: string[] = [];
for (const b of selected) {
  process.stdout.write(`\n=== ${b.name} (${b.script})\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', b.script, ...(b.args ?? [])], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed.push(b.name);
}

const sections = BENCHES.filter((b) => existsSync(`bench/results/${b.name}.md`)).map((b) =>
  readFileSync(`bench/results/${b.name}.md`, 'utf8').trim(),
);
const header = `# Benchmarks

Every figure is measured against a baseline run in the same invocation of \`npm run bench\` on the same
machine (last run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB).
Run one with \`npm run bench -- <name>\` (${BENCHES.map((b) => b.name).join(', ')}).
`;
writeFileSync('BENCHMARKS.md', `${header}\n${sections.join('\n\n')}\n`);
process.stdout.write(`\nBENCHMARKS.md written (${sections.length} sections)${failed.length ? `; failed: ${failed.join(', ')}` : ''}\n`);
if (failed.length) process.exitCode = 1;
