import { Histogram } from './histogram';

export interface NodeSample {
  /** ms since the replay started (real). */
  at: number;
  node: string;
  cpuSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  broadcasts: number;
  socketEvents: number;
  sockets: number;
  /** DynamoDB commands that consume write capacity, since the node started (treatme_dynamodb_requests_total). */
  dynamoWrites: number;
  /** DynamoDB commands that consume read capacity, since the node started. */
  dynamoReads: number;
}

export interface CountSample {
  /** Trace time (ms since 21:00). */
  t: number;
  counts: Record<string, number>;
}

/** Everything a run measures; the report reads it, nothing in here decides pass or fail. */
export class Recorder {
  readonly histograms = new Map<string, Histogram>();
  readonly errors = new Map<string, number>();
  readonly counters = new Map<string, number>();
  readonly nodeSamples: NodeSample[] = [];
  readonly countSeries: CountSample[] = [];
  messagesPerUser: number[] = [];
  messagesPerViewer: number[] = [];
  /** How far behind its schedule the replayer ran, sampled per event (ms). */
  readonly lag = new Histogram(50_000);

  hist(name: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram()));
    return h;
  }

  error(code: string, where: string): void {
    const key = `${code} (${where})`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  bump(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  count(name: string): number {
    return this.counters.get(name) ?? 0;
  }
}
