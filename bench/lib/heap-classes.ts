/**
 * Summarises V8 .heapsnapshot files by class (constructor or closure name; strings, arrays and code
 * lumped by kind) so two heaps can be compared per socket: what does a loaded node hold that an idle
 * one does not, and how does that compare with bare socket.io?
 *
 *   npx tsx bench/lib/heap-classes.ts <idle.heapsnapshot> <loaded.heapsnapshot> <sockets> [top]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type ClassTotals = Map<string, { count: number; bytes: number }>;

export function classTotals(file: string): ClassTotals {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out: ClassTotals = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const name = s.strings[s.nodes[i + iName]!] ?? '?';
    // Object and closure names identify what allocated them; a string's "name" is its content.
    const key =
      type === 'object' || type === 'closure'
        ? `${type === 'closure' ? 'ƒ ' : ''}${name}`
        : type === 'array' || type === 'hidden' || type === 'object shape'
          ? `(${type}) ${name.slice(0, 60)}`
          : `(${type})`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + iSize]!;
    out.set(key, t);
  }
  return out;
}

export interface ClassDelta {
  key: string;
  countPerSocket: number;
  bytesPerSocket: number;
}

/** Per-socket growth of each class between an idle and a loaded heap, largest first. */
export function perSocketDelta(idle: ClassTotals, loaded: ClassTotals, sockets: number): ClassDelta[] {
  const keys = new Set([...idle.keys(), ...loaded.keys()]);
  return [...keys]
    .map((key) => {
      const a = idle.get(key) ?? { count: 0, bytes: 0 };
      const b = loaded.get(key) ?? { count: 0, bytes: 0 };
      return { key, countPerSocket: (b.count - a.count) / sockets, bytesPerSocket: (b.bytes - a.bytes) / sockets };
    })
    .sort((x, y) => y.bytesPerSocket - x.bytesPerSocket);
}

export function formatDelta(rows: ClassDelta[], top: number): string {
  const total = rows.reduce((a, r) => a + r.bytesPerSocket, 0);
  return [
    `  total ${total.toFixed(0)} B/socket`,
    ...rows
      .slice(0, top)
      .map((r) => `  ${r.bytesPerSocket.toFixed(0).padStart(6)} B  ${r.countPerSocket.toFixed(2).padStart(6)}×  ${r.key}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [idle, loaded, sockets, top] = process.argv.slice(2);
  if (!idle || !loaded || !sockets) throw new Error('usage: heap-classes.ts <idle> <loaded> <sockets> [top]');
  process.stdout.write(`${formatDelta(perSocketDelta(classTotals(idle), classTotals(loaded), Number(sockets)), Number(top ?? 40))}\n`);
}
