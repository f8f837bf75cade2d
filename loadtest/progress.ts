/** A bar redrawn in place on a terminal; a plain line every few seconds in CI logs (no control codes). */
export class Progress {
  private lastPlain = 0;
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly traceMs: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI,
    private readonly everyMs = 5_000,
  ) {}

  private clock(t: number): string {
    const minutes = 21 * 60 + Math.floor(t / 60_000);
    const hh = String(Math.floor(minutes / 60) % 24).padStart(2, '0');
    return `${hh}:${String(minutes % 60).padStart(2, '0')}`;
  }

  update(done: number, traceT: number, extra: Record<string, number>): void {
    const now = Date.now();
    const pct = this.total === 0 ? 100 : Math.floor((100 * done) / this.total);
    const facts = Object.entries(extra)
      .map(([k, v]) => `${k}=${Math.round(v)}`)
      .join(' ');
    if (this.tty) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.out.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${this.clock(traceT)} ${facts}\x1b[K`,
      );
    } else if (now - this.lastPlain >= this.everyMs) {
      this.lastPlain = now;
      this.out.write(`loadtest: ${pct}% (${done}/${this.total} events) night clock ${this.clock(traceT)} ${facts}\n`);
    }
    void this.traceMs;
  }

  note(line: string): void {
    this.out.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  finish(): void {
    if (this.tty) this.out.write('\n');
  }
}
