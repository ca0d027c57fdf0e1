import { clock } from '@nextlong/pipeline';

/**
 * The coordinator's progress line for one stage: like the local run's, plus how many workers
 * of the stage are connected, so a line stuck at 0% says why.
 */
export class FleetProgress {
  private done = 0;
  private workers: number | undefined;
  private readonly started = performance.now();
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** Shards done so far (absolute) and workers connected (when known). */
  update(done: number, workers?: number): void {
    this.done = done;
    if (workers !== undefined) this.workers = workers;
    const now = performance.now();
    if (now - this.lastPrint >= (this.tty ? 200 : 5000)) {
      this.lastPrint = now;
      this.print(false);
    }
  }

  /** A warning on a line of its own, not drawn over by the bar (printed even when quiet). */
  note(line: string): void {
    this.out.write(this.tty && !this.quiet ? `\r\x1b[K${line}\n` : `${line}\n`);
    if (this.tty) this.print(false);
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
    const workers = this.workers === undefined || final ? '' : `  ${this.workers} worker${this.workers === 1 ? '' : 's'}`;
    const stats = `${this.done}/${this.total} shards  ${rate.toFixed(1)} shards/s  ${final ? `took ${clock(secs)}` : `ETA ${clock(eta)}`}${workers}`;
    if (this.tty) {
      const width = 28;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      this.out.write(`\r${this.label.padEnd(6)} ${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${stats}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.out.write(`${this.label}: ${(frac * 100).toFixed(0)}%  ${stats}\n`);
    }
  }
}
