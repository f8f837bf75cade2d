/**
 * Latency samples kept raw (up to a cap, then reservoir-sampled) so percentiles are exact for the sizes
 * this tool runs and honest beyond; seeded so two runs of the same trace report alike.
 */
export class Histogram {
  private readonly samples: number[] = [];
  count = 0;
  sum = 0;
  max = 0;
  private seed = 12345;

  constructor(private readonly cap = 200_000) {}

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.samples.length < this.cap) {
      this.samples.push(ms);
      return;
    }
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    const j = this.seed % this.count;
    if (j < this.cap) this.samples[j] = ms;
  }

  private sorted: number[] | undefined;
  private sortedAt = -1;

  percentile(p: number): number {
    if (this.samples.length === 0) return 0;
    if (this.sortedAt !== this.count) {
      this.sorted = [...this.samples].sort((a, b) => a - b);
      this.sortedAt = this.count;
    }
    const s = this.sorted!;
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Counts per log-spaced bucket (ms upper bounds), for the report's bar charts. */
  buckets(bounds = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, Infinity]): { le: number; n: number }[] {
    const out = bounds.map((le) => ({ le, n: 0 }));
    for (const v of this.samples) out.find((b) => v <= b.le)!.n++;
    return out;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      mean: this.mean(),
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.max,
    };
  }
}

export interface HistogramSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
