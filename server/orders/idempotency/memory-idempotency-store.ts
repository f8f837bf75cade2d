import {
  DEFAULT_IDEMPOTENCY_TIMINGS,
  type BeginResult,
  type IdempotencyStore,
  type IdempotencyTimings,
  type StoredResponse,
} from './idempotency-store';

interface Entry {
  fingerprint: string;
  expiresAt: number;
  leaseUntil: number;
  response: StoredResponse | null;
}

/** Embedded mode: one process, so a Map is exact. Expired entries are dropped as they are met. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly timings: IdempotencyTimings = DEFAULT_IDEMPOTENCY_TIMINGS) {}

  async begin(key: string, fingerprint: string, now: number): Promise<BeginResult> {
    this.prune(now);
    const e = this.entries.get(key);
    if (e && e.expiresAt > now) {
      if (e.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (e.response) return { kind: 'replay', response: structuredClone(e.response) };
      if (e.leaseUntil > now) return { kind: 'in_progress' };
    }
    this.entries.set(key, { fingerprint, expiresAt: now + this.timings.ttlMs, leaseUntil: now + this.timings.leaseMs, response: null });
    return { kind: 'started' };
  }

  async complete(key: string, fingerprint: string, response: StoredResponse, now: number): Promise<void> {
    const e = this.entries.get(key);
    if (!e || e.fingerprint !== fingerprint) return;
    e.response = structuredClone(response);
    e.expiresAt = now + this.timings.ttlMs;
  }

  async release(key: string, fingerprint: string): Promise<void> {
    const e = this.entries.get(key);
    if (e && e.fingerprint === fingerprint && !e.response) this.entries.delete(key);
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {}

  private prune(now: number): void {
    // Amortised: only look when the map has grown, so a hot path stays O(1).
    if (this.entries.size < 10_000) return;
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}
