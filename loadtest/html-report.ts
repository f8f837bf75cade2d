import type { Verdict } from './judge';
import type { Recorder } from './recorder';
import { clock, fmtHist, nodeFigures, spread, summaryText, type RunFacts } from './report';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#808000'];

/** Vertical bars with a label under each: latency histograms and messages per client. */
function bars(title: string, data: { label: string; n: number }[], unit: string): string {
  const W = 520;
  const H = 180;
  const max = Math.max(1, ...data.map((d) => d.n));
  const bw = (W - 40) / Math.max(1, data.length);
  const rects = data
    .map((d, i) => {
      const h = ((H - 50) * d.n) / max;
      const x = 30 + i * bw;
      return (
        `<rect x="${x + 2}" y="${H - 30 - h}" width="${bw - 4}" height="${h}" fill="#4363d8"><title>${esc(d.label)} ${unit}: ${d.n}</title></rect>` +
        `<text x="${x + bw / 2}" y="${H - 16}" font-size="9" text-anchor="middle">${esc(d.label)}</text>` +
        (d.n > 0 ? `<text x="${x + bw / 2}" y="${H - 33 - h}" font-size="9" text-anchor="middle">${d.n}</text>` : '')
      );
    })
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${rects}<text x="${W / 2}" y="${H - 2}" font-size="10" text-anchor="middle">${esc(unit)}</text></svg></figure>`;
}

/** Lines over time, one per series, on a shared axis. */
function lines(
  title: string,
  series: { name: string; points: [number, number][] }[],
  xLabel: (x: number) => string,
  yUnit: string,
): string {
  const W = 640;
  const H = 220;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p>${esc(title)}: no samples</p>`;
  const xs = all.map((p) => p[0]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const y1 = Math.max(1, ...all.map((p) => p[1]));
  const px = (x: number) => 50 + ((x - x0) / (x1 - x0)) * (W - 70);
  const py = (y: number) => H - 30 - (y / y1) * (H - 50);
  const paths = series
    .map((s, i) => {
      const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"><title>${esc(s.name)}</title></path>`;
    })
    .join('');
  const legend = series.map((s, i) => `<tspan fill="${COLORS[i % COLORS.length]}">■ ${esc(s.name)} </tspan>`).join('');
  const axis =
    `<line x1="50" y1="${H - 30}" x2="${W - 20}" y2="${H - 30}" stroke="#999"/><line x1="50" y1="20" x2="50" y2="${H - 30}" stroke="#999"/>` +
    `<text x="50" y="${H - 14}" font-size="10">${esc(xLabel(x0))}</text><text x="${W - 20}" y="${H - 14}" font-size="10" text-anchor="end">${esc(xLabel(x1))}</text>` +
    `<text x="46" y="24" font-size="10" text-anchor="end">${y1.toFixed(y1 < 10 ? 1 : 0)}</text><text x="46" y="${H - 30}" font-size="10" text-anchor="end">0</text>` +
    `<text x="54" y="14" font-size="10">${esc(yUnit)}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${W}" height="${H + 16}" xmlns="http://www.w3.org/2000/svg">${axis}${paths}<text x="50" y="${H + 10}" font-size="10">${legend}</text></svg></figure>`;
}

function messageBuckets(values: number[]): { label: string; n: number }[] {
  const edges = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, Infinity];
  return edges.slice(0, -1).map((lo, i) => {
    const hi = edges[i + 1]!;
    return {
      label: hi === Infinity ? `${lo}+` : hi - lo === 1 ? `${lo}` : `${lo}–${hi - 1}`,
      n: values.filter((v) => v >= lo && v < hi).length,
    };
  });
}

/** A self-contained page (no scripts, no external files): summary, latency histograms, counts and nodes over time. */
export function htmlReport(rec: Recorder, verdict: Verdict, facts: RunFacts): string {
  const parts: string[] = [];
  parts.push(`<h1>TreatMe load test — <span class="${verdict.pass ? 'pass' : 'fail'}">${verdict.pass ? 'PASS' : 'FAIL'}</span></h1>`);
  parts.push(`<pre>${esc(summaryText(rec, verdict, facts))}</pre>`);
  parts.push('<h2>Latency</h2><table><tr><th>what</th><th>count</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>');
  for (const [name, h] of rec.histograms) {
    const s = h.summary();
    parts.push(
      `<tr><td>${esc(name)}</td><td>${s.count}</td><td>${s.p50.toFixed(1)}</td><td>${s.p90.toFixed(1)}</td><td>${s.p99.toFixed(1)}</td><td>${s.max.toFixed(1)}</td></tr>`,
    );
  }
  parts.push('</table><div class="grid">');
  for (const [name, h] of rec.histograms) {
    if (h.count === 0) continue;
    parts.push(
      bars(
        `${name} (${fmtHist(h.summary())})`,
        h.buckets().map((b) => ({ label: b.le === Infinity ? '>10s' : `≤${b.le}`, n: b.n })),
        'ms',
      ),
    );
  }
  parts.push('</div><h2>Messages per client</h2><div class="grid">');
  const mu = spread(rec.messagesPerUser);
  parts.push(bars(`per user (mean ${mu.mean.toFixed(1)}, max ${mu.max})`, messageBuckets(rec.messagesPerUser), 'messages received'));
  parts.push(
    bars(
      `per map viewer (mean ${spread(rec.messagesPerViewer).mean.toFixed(1)})`,
      messageBuckets(rec.messagesPerViewer),
      'messages received',
    ),
  );
  parts.push('</div><h2>Errors by code</h2>');
  parts.push(
    rec.errors.size === 0
      ? '<p>none</p>'
      : `<table>${[...rec.errors].map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('')}</table>`,
  );
  parts.push('<h2>Hottest venues over the night</h2>');
  const venues = new Map(facts.trace.header.venues.map((v) => [v.id, v.slug]));
  const ids = Object.keys(rec.countSeries[0]?.counts ?? {});
  parts.push(
    lines(
      'live count seen by the node-0 observer',
      ids.map((id) => ({ name: venues.get(id) ?? id, points: rec.countSeries.map((s) => [s.t, s.counts[id] ?? 0] as [number, number]) })),
      clock,
      'people',
    ),
  );
  parts.push(
    '<h2>Nodes</h2><table><tr><th>node</th><th>CPU s</th><th>cores</th><th>peak RSS MB</th><th>peak heap MB</th><th>peak sockets</th><th>count broadcasts</th><th>socket events</th></tr>',
  );
  for (const n of nodeFigures(rec.nodeSamples)) {
    parts.push(
      `<tr><td>${n.node}</td><td>${n.cpuSeconds.toFixed(1)}</td><td>${n.cpuCores.toFixed(2)}</td><td>${n.peakRssMb.toFixed(0)}</td><td>${n.peakHeapMb.toFixed(0)}</td><td>${n.peakSockets}</td><td>${n.broadcasts}</td><td>${n.socketEvents}</td></tr>`,
    );
  }
  parts.push('</table><div class="grid">');
  const nodes = [...new Set(rec.nodeSamples.map((s) => s.node))];
  const secs = (x: number) => `${(x / 1000).toFixed(0)} s`;
  parts.push(
    lines(
      'resident memory',
      nodes.map((n) => ({
        name: n,
        points: rec.nodeSamples.filter((s) => s.node === n).map((s) => [s.at, s.rssBytes / 1e6] as [number, number]),
      })),
      secs,
      'MB',
    ),
  );
  parts.push(
    lines(
      'heap used',
      nodes.map((n) => ({
        name: n,
        points: rec.nodeSamples.filter((s) => s.node === n).map((s) => [s.at, s.heapUsedBytes / 1e6] as [number, number]),
      })),
      secs,
      'MB',
    ),
  );
  parts.push(
    lines(
      'CPU (cores busy)',
      nodes.map((n) => {
        const list = rec.nodeSamples.filter((s) => s.node === n);
        return {
          name: n,
          points: list
            .slice(1)
            .map((s, i) => [s.at, (s.cpuSeconds - list[i]!.cpuSeconds) / Math.max(0.001, (s.at - list[i]!.at) / 1000)] as [number, number]),
        };
      }),
      secs,
      'cores',
    ),
  );
  parts.push(
    lines(
      'sockets connected',
      nodes.map((n) => ({
        name: n,
        points: rec.nodeSamples.filter((s) => s.node === n).map((s) => [s.at, s.sockets] as [number, number]),
      })),
      secs,
      'sockets',
    ),
  );
  parts.push('</div>');
  if (facts.nodeEnv)
    parts.push(
      `<h2>Node settings</h2><pre>${esc(
        Object.entries(facts.nodeEnv)
          .filter(([k]) => !/SECRET|URL/.test(k))
          .map(([k, v]) => `${k}=${v}`)
          .join('\n'),
      )}</pre>`,
    );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TreatMe load test</title><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px;text-align:right}td:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:12px;font-weight:600}.pass{color:#2a2}.fail{color:#c22}
</style></head><body>${parts.join('\n')}</body></html>`;
}
