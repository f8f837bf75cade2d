/**
 * A minimal Chrome DevTools Protocol client for a process started with `--inspect`: the sockets
 * benchmark needs a forced GC before each heap reading (otherwise garbage is counted as per-socket
 * memory) without adding anything to the server it measures.
 */
import { createWriteStream } from 'node:fs';
import WebSocket from 'ws';

export interface MemoryReading {
  heapUsed: number;
  rss: number;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { res: (r: Record<string, unknown>) => void; rej: (e: Error) => void }>();
  private readonly listeners = new Map<string, (params: Record<string, unknown>) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as CdpMessage;
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.rej(new Error(msg.error.message));
        else p?.res(msg.result ?? {});
      } else if (msg.method) {
        this.listeners.get(msg.method)?.(msg.params ?? {});
      }
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.rej(new Error('inspector connection closed'));
      this.pending.clear();
    });
  }

  /** The inspector may open a moment after the process starts; retry until it answers. */
  static async connect(port: number, timeoutMs = 30_000): Promise<Inspector> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
        const url = targets[0]?.webSocketDebuggerUrl;
        if (!url) throw new Error('no inspector target');
        // A heap snapshot of a large heap arrives as many chunks; no frame limit applies to them.
        const ws = new WebSocket(url, { maxPayload: 0, perMessageDeflate: false });
        await new Promise<void>((res, rej) => {
          ws.once('open', () => res());
          ws.once('error', rej);
        });
        return new Inspector(ws);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Heap after full collections. Twice: objects with finalizers or weak callbacks released by the
   * first collection are reclaimed by the second.
   */
  async collectedMemory(): Promise<MemoryReading> {
    await this.send('HeapProfiler.collectGarbage');
    await this.send('HeapProfiler.collectGarbage');
    const r = await this.send('Runtime.evaluate', {
      expression: '(() => { const m = process.memoryUsage(); return { heapUsed: m.heapUsed, rss: m.rss }; })()',
      returnByValue: true,
    });
    const value = (r.result as { value?: MemoryReading } | undefined)?.value;
    if (!value || typeof value.heapUsed !== 'number') throw new Error(`unexpected Runtime.evaluate answer: ${JSON.stringify(r)}`);
    return value;
  }

  /** Writes a .heapsnapshot file (loadable in Chrome DevTools, summarised by heap-classes.ts). */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.listeners.set('HeapProfiler.addHeapSnapshotChunk', (p) => out.write(String(p.chunk)));
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
    } finally {
      this.listeners.delete('HeapProfiler.addHeapSnapshotChunk');
      await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    }
  }

  close(): void {
    this.ws.close();
  }
}
