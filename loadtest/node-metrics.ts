import { DYNAMO_READ_COMMANDS, DYNAMO_WRITE_COMMANDS } from '../server/storage/dynamo-client';
import type { NodeSample, Recorder } from './recorder';

/** Sums every series of a Prometheus metric (all label sets) in the text exposition format. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** One metric's series by the value of one label, e.g. treatme_dynamodb_requests_total by `command`. */
export function metricByLabel(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const pattern = new RegExp(`^${name}\\{[^}]*\\b${label}="([^"]*)"[^}]*\\}\\s+(\\S+)`);
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}

const sumOf = (byCommand: Map<string, number>, commands: ReadonlySet<string>) =>
  [...byCommand].reduce((a, [c, v]) => a + (commands.has(c) ? v : 0), 0);

export async function scrapeNode(url: string, node: string, at: number): Promise<NodeSample | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return null;
    const text = await res.text();
    const dynamo = metricByLabel(text, 'treatme_dynamodb_requests_total', 'command');
    return {
      at,
      node,
      cpuSeconds: metricValue(text, 'process_cpu_seconds_total'),
      rssBytes: metricValue(text, 'process_resident_memory_bytes'),
      heapUsedBytes: metricValue(text, 'nodejs_heap_size_used_bytes'),
      broadcasts: metricValue(text, 'treatme_venue_count_broadcasts_total'),
      socketEvents: metricValue(text, 'treatme_socket_events_total'),
      sockets: metricValue(text, 'treatme_sockets_connected'),
      dynamoWrites: sumOf(dynamo, DYNAMO_WRITE_COMMANDS),
      dynamoReads: sumOf(dynamo, DYNAMO_READ_COMMANDS),
    };
  } catch {
    return null;
  }
}

/** Samples every node's /metrics on a timer into the recorder; stop() takes one last sample. */
export function watchNodes(urls: string[], rec: Recorder, everyMs = 2_000): { stop(): Promise<void> } {
  const started = Date.now();
  const sample = async () => {
    const at = Date.now() - started;
    const samples = await Promise.all(urls.map((u, i) => scrapeNode(u, `node${i}`, at)));
    for (const s of samples) if (s) rec.nodeSamples.push(s);
  };
  void sample();
  const timer = setInterval(() => void sample(), everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await sample();
    },
  };
}

/**
 * How far the servers have caught up with expiry (epoch ms): every stay that expired before it has
 * been ended. Nodes sweep one shared index, so the furthest sweeper speaks for all; heartbeat timeouts
 * are ended by the node holding the socket, so the slowest node's tracker counts. Null when the
 * servers expose neither.
 */
export async function expiryCaughtUpTo(urls: string[]): Promise<number | null> {
  const texts = await Promise.all(
    urls.map(async (url) => {
      try {
        return await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
      } catch {
        return null;
      }
    }),
  );
  const read = (name: string) =>
    texts.filter((t): t is string => t !== null && t.includes(`${name} `)).map((t) => metricValue(t, name) * 1000);
  const swept = read('treatme_presence_swept_through_seconds');
  const timeouts = read('treatme_presence_timeouts_through_seconds');
  if (swept.length === 0 && timeouts.length === 0) return null;
  return Math.min(swept.length > 0 ? Math.max(...swept) : Infinity, timeouts.length === texts.length ? Math.min(...timeouts) : Infinity);
}
