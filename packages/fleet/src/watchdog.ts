export interface WatchdogOptions {
  /** Overdue means longer than `factor` × the stage's p99 shard time (default 5)… */
  factor?: number;
  /** …and never less than this, so tiny runs with sub-second shards do not warn (default 60 s). */
  floorMs?: number;
  /** Before any shard of the stage is done there is no p99: overdue after this (default 30 min). */
  unknownMs?: number;
}

/** A shard in progress: its job id and when a worker took it (ms epoch). */
export interface InProgress {
  id: string;
  since: number;
}

/**
 * Notices shards in progress far longer than the stage usually takes (a worker wedged on a
 * pathological shard, a lost lock nobody noticed) from the times of the stage's done shards.
 */
export class Watchdog {
  private readonly seconds: number[] = [];
  private readonly warned = new Set<string>();
  private readonly factor: number;
  private readonly floorMs: number;
  private readonly unknownMs: number;

  constructor(o: WatchdogOptions = {}) {
    this.factor = o.factor ?? 5;
    this.floorMs = o.floorMs ?? 60_000;
    this.unknownMs = o.unknownMs ?? 30 * 60_000;
  }

  /** Time of one done shard, in seconds (from its stats). */
  addDone(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.seconds.push(seconds);
  }

  /** 99th percentile of done shards' seconds (nearest rank), undefined before the first. */
  p99(): number | undefined {
    if (!this.seconds.length) return undefined;
    const sorted = [...this.seconds].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
  }

  thresholdMs(): number {
    const p = this.p99();
    return p === undefined ? Math.max(this.unknownMs, this.floorMs) : Math.max(this.factor * p * 1000, this.floorMs);
  }

  /**
   * The shards overdue now, and among them those not reported before (each is reported once,
   * as one line naming it and how long it has run).
   */
  check(inProgress: readonly InProgress[], now = Date.now()): { overdue: number; lines: string[] } {
    const limit = this.thresholdMs();
    const p = this.p99();
    const lines: string[] = [];
    let overdue = 0;
    for (const s of inProgress) {
      const ms = now - s.since;
      if (ms <= limit) continue;
      overdue++;
      if (this.warned.has(s.id)) continue;
      this.warned.add(s.id);
      const usual = p === undefined ? 'no shard of this stage has finished yet' : `p99 of finished shards ${p.toFixed(1)} s`;
      lines.push(`watchdog: shard ${s.id} in progress for ${(ms / 1000).toFixed(0)} s (${usual}); its worker may be stuck`);
    }
    return { overdue, lines };
  }
}
