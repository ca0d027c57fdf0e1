import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { RunConfig } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { canFork, ChildLane, type ShardRunner } from './child-lane.js';
import { RunContext, tmpDirFor } from './context.js';
import type { Manifest } from './finalize.js';
import { planRun } from './plan.js';
import { Progress } from './progress.js';
import { runShard } from './run-shard.js';
import type { RunPlan, Stage } from './run-state.js';
import { driveRun, runOnLanes, type StageExecutor, type StageWork } from './stage-driver.js';
import type { ShardStats } from './stats.js';
import { qdrantSettings } from './vectors-backend.js';

export interface LocalRunOptions {
  /** Progress output; defaults to stderr. */
  progressStream?: NodeJS.WriteStream;
  quiet?: boolean;
}

/**
 * The local executor: plans, then hands the run to the stage driver with lanes as transport.
 * Shards run on `concurrency` lanes (one core each): this process and `concurrency - 1` shard
 * processes kept for the whole run; re-running resumes from done markers.
 */
export async function runLocal(config: RunConfig, opts: LocalRunOptions = {}): Promise<Manifest> {
  const t0 = performance.now();
  if (config.vectors === 'qdrant') qdrantSettings(); // a missing QDRANT_URL stops us before any work
  // shard processes start first: their start-up (modules, model, tokenizer) overlaps the planning below
  const lanes = config.concurrency || os.availableParallelism();
  const children = canFork() ? Array.from({ length: lanes - 1 }, () => new ChildLane(config)) : [];
  try {
    const store = openObjectStore(config.out);
    const plan = await planRun(config, store, loadTokenizer(config.tokenizer), { quiet: opts.quiet });
    // temporary files of an interrupted run are garbage: every shard rewrites its own
    await rm(tmpDirFor(store, plan.runId), { recursive: true, force: true });
    // this process is a lane too: it has the tokenizer loaded already, and a process fewer starts
    const here = new InProcess(plan);
    try {
      await here.loadModel(); // a misconfigured model folder stops the run before any shard's work
      return await driveRun(plan, store, new LocalLanes(plan, [here, ...children], opts), {
        timings: { plan_seconds: secs(t0) },
        startedAt: t0,
      });
    } finally {
      await here.close();
    }
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

/** The local transport: a stage's shards on lanes; the index on a lane of its own, closed after it. */
class LocalLanes implements StageExecutor {
  constructor(
    private readonly plan: RunPlan,
    private readonly runners: ShardRunner[],
    private readonly opts: LocalRunOptions,
  ) {}

  async runStage(work: StageWork): Promise<void> {
    const total = work.shards.reduce((a, s) => a + s.units, 0);
    const bar = new Progress(work.stage, total, work.unit, this.opts.progressStream, this.opts.quiet);
    const index = work.stage === 'index' ? new InProcess(this.plan) : undefined;
    try {
      await runOnLanes(index ? [index] : this.runners, work, { onProgress: (n) => bar.add(n) });
    } finally {
      bar.finish();
      await index?.close();
    }
  }
}

function secs(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}

class InProcess implements ShardRunner {
  private readonly ctx: RunContext;
  constructor(plan: RunPlan) {
    this.ctx = RunContext.forOut(plan);
  }
  async loadModel(): Promise<void> {
    await this.ctx.getEmbedder();
  }
  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats> {
    return runShard(this.ctx, stage, shardId, onProgress);
  }
  close(): Promise<void> {
    return this.ctx.close();
  }
}
