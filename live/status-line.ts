/**
 * Progress of a long command on stderr: on a terminal one line rewritten in place (`\r`, at most
 * five times a second); otherwise (a log file, a pipe, systemd) a plain line every `everyMs`
 * (10 s), so an unattended run says it is alive without flooding its log.
 */
export class StatusLine {
  private last: number;
  private shown = false;
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly everyMs = 10_000,
    tty?: boolean,
  ) {
    this.tty = tty ?? stream.isTTY === true;
    this.last = performance.now();
  }

  /** Cheap when nothing is due: `text` is only called when a line is written. */
  update(text: () => string): void {
    const now = performance.now();
    if (now - this.last < (this.tty ? 200 : this.everyMs)) return;
    this.last = now;
    if (this.tty) {
      this.stream.write(`\r${text()}\u001b[K`);
      this.shown = true;
    } else {
      this.stream.write(`${text()}\n`);
    }
  }

  /** Clears the terminal line (before a final summary or a log line). */
  clear(): void {
    if (this.shown) this.stream.write('\r\u001b[K');
    this.shown = false;
  }
}

/** 12,345 */
export const fmtCount = (n: number) => n.toLocaleString('en-US');

/** HH:MM:SS of an epoch-ns time (UTC). */
export const fmtClock = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString().slice(11, 19);
