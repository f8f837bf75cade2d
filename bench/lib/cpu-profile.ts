/**
 * Reads the `.cpuprofile` files `node --cpu-prof` writes and says where a process's busy time went,
 * grouped by what a reader can act on: an npm package, a server module folder, or Node itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function groupOf(frame: ProfileNode['callFrame']): string | null {
  const { url, functionName } = frame;
  if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return null;
  if (functionName === '(garbage collector)') return 'GC';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return pkg ?? 'node_modules';
  }
  const srv = url.indexOf('/server/');
  if (srv >= 0) return `server/${url.slice(srv + '/server/'.length).split('/')[0]}`;
  if (url.startsWith('node:') || url === '') return 'node internals';
  return 'other';
}

/** Busy milliseconds per group (self time), summed over every profile in `dir`, largest first. */
export function topCosts(dir: string, limit = 8): { total: number; rows: { group: string; ms: number }[] } {
  const byGroup = new Map<string, number>();
  let total = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    p.samples.forEach((id, i) => {
      const node = byId.get(id);
      if (!node) return;
      const g = groupOf(node.callFrame);
      if (g === null) return;
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      total += ms;
      byGroup.set(g, (byGroup.get(g) ?? 0) + ms);
    });
  }
  const rows = [...byGroup]
    .map(([group, ms]) => ({ group, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, limit);
  return { total, rows };
}
