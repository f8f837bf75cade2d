import type { Trace } from '../protocol/trace';
import type { HistogramSummary } from './histogram';
import type { Verdict } from './judge';
import type { NodeSample, Recorder } from './recorder';

export interface RunFacts {
  trace: Trace;
  speed: number;
  urls: string[];
  stores: string;
  realMs: number;
  aborted: string | null;
  nodeEnv?: Record<string, string>;
}

export interface NodeFigures {
  node: string;
  cpuSeconds: number;
  /** CPU used during the replay divided by its wall time: 1.0 is one core busy. */
  cpuCores: number;
  peakRssMb: number;
  peakHeapMb: number;
  broadcasts: number;
  socketEvents: number;
  peakSockets: number;
}

export function nodeFigures(samples: NodeSample[]): NodeFigures[] {
  const byNode = new Map<string, NodeSample[]>();
  for (const s of samples) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
  return [...byNode.entries()].map(([node, list]) => {
    const first = list[0]!;
    const last = list[list.length - 1]!;
    const wall = Math.max(1, last.at - first.at) / 1_000;
    return {
      node,
      cpuSeconds: last.cpuSeconds - first.cpuSeconds,
      cpuCores: (last.cpuSeconds - first.cpuSeconds) / wall,
      peakRssMb: Math.max(...list.map((s) => s.rssBytes)) / 1e6,
      peakHeapMb: Math.max(...list.map((s) => s.heapUsedBytes)) / 1e6,
      broadcasts: last.broadcasts - first.broadcasts,
      socketEvents: last.socketEvents - first.socketEvents,
      peakSockets: Math.max(...list.map((s) => s.sockets)),
    };
  });
}

export function spread(values: number[]): { n: number; mean: number; p50: number; p99: number; max: number; total: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
  const total = s.reduce((a, b) => a + b, 0);
  return { n: s.length, mean: s.length ? total / s.length : 0, p50: at(50), p99: at(99), max: s[s.length - 1] ?? 0, total };
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
export const fmtHist = (h: HistogramSummary) => `n=${h.count} p50=${ms(h.p50)} p90=${ms(h.p90)} p99=${ms(h.p99)} max=${ms(h.max)} ms`;

/** The printed summary: what a person reads in a terminal or a CI log before opening the HTML. */
export function summaryText(rec: Recorder, verdict: Verdict, facts: RunFacts): string {
  const h = facts.trace.header;
  const lines: string[] = [];
  lines.push(`TreatMe load test — ${verdict.pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    `  trace: seed ${h.seed}, ${h.users} users, ${h.viewers} map viewers, ${h.venues.length} venues, ${facts.trace.events.length} events, ` +
      `${(h.durationMs / 60_000).toFixed(0)} min of night at ${facts.speed}× → ${(facts.realMs / 1000).toFixed(1)} s real`,
  );
  lines.push(`  target: ${facts.urls.length} node(s), ${facts.stores}${facts.aborted ? ` — ${facts.aborted}` : ''}`);
  lines.push('  latency:');
  for (const [name, hist] of [...rec.histograms.entries()].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`    ${name.padEnd(44)} ${fmtHist(hist.summary())}`);
  lines.push(`    ${'replayer lag behind schedule'.padEnd(44)} ${fmtHist(rec.lag.summary())}`);
  const mu = spread(rec.messagesPerUser);
  const mv = spread(rec.messagesPerViewer);
  lines.push(
    `  messages received: per user mean ${mu.mean.toFixed(1)} p99 ${mu.p99} max ${mu.max} (total ${mu.total}); per map viewer mean ${mv.mean.toFixed(1)} max ${mv.max} (total ${mv.total})`,
  );
  if (rec.errors.size > 0) {
    lines.push('  errors by code:');
    for (const [k, v] of [...rec.errors.entries()].sort((a, b) => b[1] - a[1])) lines.push(`    ${String(v).padStart(6)}  ${k}`);
  } else lines.push('  errors: none');
  for (const [k, v] of rec.counters) lines.push(`  ${k}: ${v}`);
  const nodes = nodeFigures(rec.nodeSamples);
  if (nodes.length > 0) {
    lines.push('  nodes:');
    for (const n of nodes) {
      lines.push(
        `    ${n.node}: cpu ${n.cpuSeconds.toFixed(1)} s (${n.cpuCores.toFixed(2)} cores), peak rss ${n.peakRssMb.toFixed(0)} MB, peak heap ${n.peakHeapMb.toFixed(0)} MB, ` +
          `peak sockets ${n.peakSockets}, count broadcasts ${n.broadcasts}, socket events ${n.socketEvents}`,
      );
    }
  }
  lines.push('  judge:');
  for (const q of verdict.quiesce) {
    lines.push(
      `    quiesce ${q.q} at ${clock(q.traceT)}: ${q.expectedTotal} people expected, ${q.comparisons} counts compared over ${q.venues} venues and ${q.viewersChecked} viewers, ` +
        `settled ${q.settledMs} ms, unsure ${q.unsure} → ${q.mismatches.length === 0 ? 'ok' : `${q.mismatches.length} DIFFERENCES`}`,
    );
    for (const m of q.mismatches.slice(0, 8)) {
      lines.push(
        `      ${m.source} ${m.slug}: expected ${m.expected.lo === m.expected.hi ? m.expected.lo : `${m.expected.lo}..${m.expected.hi}`}, saw ${m.actual ?? 'nothing'}${m.server !== undefined ? ` (server now ${m.server})` : ''}`,
      );
    }
  }
  const m = verdict.money;
  if (m) {
    lines.push(
      `    money (${m.checkedIn}): ${m.ordersCreated}/${m.ordersPlanned} orders created (${m.ordersRefused} refused), ${m.doubleTaps} double taps answered once, ` +
        `${m.paid} paid, ${m.accepted} accepted, ${m.redeemed} redeemed, ${m.rescansRefused} second scans refused, ${m.unanswered} created but unanswered → ${m.problems.length === 0 ? 'ok' : 'PROBLEMS'}`,
    );
  }
  for (const p of verdict.problems) lines.push(`  ✗ ${p}`);
  return lines.join('\n');
}

export function clock(t: number): string {
  const minutes = 21 * 60 + Math.floor(t / 60_000);
  return `${String(Math.floor(minutes / 60) % 24).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
