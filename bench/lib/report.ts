import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Row {
  measure: string;
  baseline: string;
  ours: string;
  ratio: string;
  goal?: string;
}

export function ratio(baseline: number, ours: number): string {
  if (ours === 0) return baseline === 0 ? '1.0×' : '∞';
  return `${(baseline / ours).toFixed(1)}×`;
}

export function table(rows: Row[]): string {
  const head = '| measure | baseline | TreatMe | baseline ÷ TreatMe | goal |\n|---|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${r.measure} | ${r.baseline} | ${r.ours} | ${r.ratio} | ${r.goal ?? ''} |`)].join('\n');
}

/** Each bench writes its own section; bench/run.ts assembles BENCHMARKS.md from them. */
export function writeSection(name: string, markdown: string): void {
  const file = join('bench', 'results', `${name}.md`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${markdown.trim()}\n`);
  process.stdout.write(`${markdown.trim()}\n\n`);
}
