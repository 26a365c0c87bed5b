/** A one-line progress display on a TTY: events/s, simulated time and ETA. Silent elsewhere. */

export class Progress {
  private last = 0;
  private readonly start = performance.now();
  private shown = false;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = process.stderr.isTTY === true,
  ) {}

  update(done: number, simNs: bigint): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 200) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    const frac = this.total > 0 ? Math.min(done / this.total, 1) : 0;
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const sim = new Date(Number(simNs / 1_000_000n)).toISOString().slice(11, 23);
    this.stream.write(`\r[${bar}] ${(frac * 100).toFixed(1)}% ${fmtRate(rate)} ev/s  sim ${sim}  eta ${eta.toFixed(0)}s   `);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r' + ' '.repeat(90) + '\r');
  }
}

export function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}
