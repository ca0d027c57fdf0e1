import { logger } from '@nextlong/core';

/**
 * Stage progress with rate and ETA: a redrawn bar on a terminal (user output), otherwise
 * periodic lines through the logger (level info, with `stage`, `done`, `total`), so that they
 * are JSON records where logs are JSON.
 */
export class Progress {
  private done = 0;
  /** Shown after the stats while running (the fleet's "3 workers"). */
  private extra = '';
  private readonly started = performance.now();
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  add(n: number): void {
    this.set(this.done + n);
  }

  /** Units done so far (absolute), and an optional note shown after the stats. */
  set(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    const now = performance.now();
    const every = this.tty ? 200 : 5000;
    if (now - this.lastPrint >= every) {
      this.lastPrint = now;
      this.print(false);
    }
  }

  /** A warning on a line of its own, not drawn over by the bar (printed even when quiet). */
  note(line: string): void {
    if (this.logged()) logger().warn({ stage: this.label }, line);
    else this.out.write(this.tty && !this.quiet ? `\r\x1b[K${line}\n` : `${line}\n`);
    if (this.tty) this.print(false);
  }

  /** Lines go to the logger, not the stream: stderr that is no terminal. */
  private logged(): boolean {
    return !this.tty && this.out === process.stderr;
  }

  finish(): void {
    this.done = Math.max(this.done, this.total);
    this.print(true);
  }

  private print(final: boolean): void {
    if (this.quiet) return;
    const secs = (performance.now() - this.started) / 1000;
    const rate = this.done / Math.max(secs, 1e-3);
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const stats = `${this.done}/${this.total} ${this.unit}  ${rate.toFixed(1)} ${this.unit}/s  ${final ? `took ${clock(secs)}` : `ETA ${clock(eta)}`}${!final && this.extra ? `  ${this.extra}` : ''}`;
    if (this.tty) {
      const width = 28;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      this.out.write(`\r${this.label.padEnd(6)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${stats}\x1b[K${final ? '\n' : ''}`);
    } else {
      const line = `${this.label}: ${(frac * 100).toFixed(0)}%  ${stats}`;
      // a stage's line, whichever shard's progress drew it: no `shard` field from the logging scope
      if (this.logged()) logger().info({ stage: this.label, shard: undefined, done: this.done, total: this.total }, line);
      else this.out.write(`${line}\n`);
    }
  }
}

export function clock(secs: number): string {
  if (!Number.isFinite(secs)) return '--:--';
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
