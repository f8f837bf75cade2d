/**
 * CPU seconds per process group from /proc (Linux), so a benchmark on a shared 2-core box can say where
 * the time went: the server nodes, the DynamoDB Local this run started, PostgreSQL, Redis, the load
 * client, and everything else on the machine. Elsewhere it reports nothing rather than guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime in clock ticks. */
  ticks: number;
}

// USER_HZ is 100 on every Linux this runs on; /proc gives no portable way to read it without a child process.
const TICKS_PER_SECOND = 100;

function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // comm may contain spaces and parentheses: the fields after it start at the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.set(Number(d), { pid: Number(d), ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

export type CpuGroup = 'server nodes' | 'DynamoDB Local' | 'PostgreSQL' | 'Redis' | 'load client' | 'other';
export const CPU_GROUPS: CpuGroup[] = ['server nodes', 'DynamoDB Local', 'PostgreSQL', 'Redis', 'load client', 'other'];

function descendsFrom(p: Proc, ancestor: number, all: Map<number, Proc>): boolean {
  for (let q: Proc | undefined = p, hops = 0; q && hops < 32; q = all.get(q.ppid), hops++) if (q.ppid === ancestor) return true;
  return false;
}

/** Starts counting; `stop()` returns CPU seconds per group since then (processes that exited meanwhile are lost). */
export function cpuByGroup(serverPids: number[]): { stop(): Map<CpuGroup, number> } {
  const self = process.pid;
  const servers = new Set(serverPids);
  const classify = (p: Proc, all: Map<number, Proc>): CpuGroup => {
    if (servers.has(p.pid)) return 'server nodes';
    if (p.pid === self) return 'load client';
    if (p.comm === 'java' && descendsFrom(p, self, all)) return 'DynamoDB Local';
    if (p.comm.startsWith('postgres')) return 'PostgreSQL';
    if (p.comm.startsWith('redis')) return 'Redis';
    return 'other';
  };
  const before = readProcs();
  return {
    stop: () => {
      const after = readProcs();
      const out = new Map<CpuGroup, number>(CPU_GROUPS.map((g) => [g, 0]));
      for (const p of after.values()) {
        const delta = p.ticks - (before.get(p.pid)?.ticks ?? 0);
        const g = classify(p, after);
        out.set(g, (out.get(g) ?? 0) + delta / TICKS_PER_SECOND);
      }
      return out;
    },
  };
}
