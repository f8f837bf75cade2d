import type { DeliveryResult } from './push-provider';

export interface QueueSettings {
  /** Deliveries in flight at once (each is one HTTP/2 stream or HTTPS request). */
  concurrency: number;
  /** Deliveries waiting (including those waiting to be retried); beyond this new ones are dropped. */
  maxQueued: number;
  maxAttempts: number;
  /** First retry delay; doubled per attempt with jitter, capped at `maxDelayMs`, or the provider's Retry-After. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface DeliveryJob {
  attempt: (n: number) => Promise<DeliveryResult>;
  /** Called once with the final result (`retry` here means the attempts ran out). */
  done: (result: DeliveryResult, attempts: number) => void | Promise<void>;
}

/**
 * A bounded in-process queue with retries. Callers enqueue and return at once, so a slow or failing
 * provider never holds up the request or socket event that caused the push; a full queue drops the push
 * (counted) instead of growing without bound while a provider is down.
 */
export class DeliveryQueue {
  private readonly ready: { job: DeliveryJob; tries: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private waiting = 0;
  private active = 0;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(private readonly s: QueueSettings) {}

  /** Queued plus delayed plus in flight. */
  get size(): number {
    return this.ready.length + this.waiting + this.active;
  }

  /** False when the queue is full or stopped: the push is not sent. */
  enqueue(job: DeliveryJob): boolean {
    if (this.stopped || this.ready.length + this.waiting >= this.s.maxQueued) return false;
    this.ready.push({ job, tries: 0 });
    this.pump();
    return true;
  }

  /** Resolves when nothing is queued, waiting or in flight (tests and shutdown). */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting = 0;
    this.ready.length = 0;
    if (this.active > 0) await this.drained();
  }

  private pump(): void {
    while (this.active < this.s.concurrency && this.ready.length > 0) {
      const item = this.ready.shift()!;
      this.active += 1;
      void this.run(item).finally(() => {
        this.active -= 1;
        this.pump();
        if (this.size === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async run(item: { job: DeliveryJob; tries: number }): Promise<void> {
    item.tries += 1;
    let result: DeliveryResult;
    try {
      result = await item.job.attempt(item.tries);
    } catch (err) {
      result = { outcome: 'retry', reason: err instanceof Error ? err.message : String(err) };
    }
    if (result.outcome === 'retry' && item.tries < this.s.maxAttempts && !this.stopped) {
      const backoff = Math.min(this.s.maxDelayMs, this.s.baseDelayMs * 2 ** (item.tries - 1));
      const delay = Math.min(this.s.maxDelayMs, result.retryAfterMs ?? backoff * (0.5 + Math.random() / 2));
      this.waiting += 1;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiting -= 1;
        if (this.stopped) return;
        this.ready.push(item);
        this.pump();
      }, delay);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    try {
      await item.job.done(result, item.tries);
    } catch {
      // `done` reports its own failures; the queue must keep running.
    }
  }
}
