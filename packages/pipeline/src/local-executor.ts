import { rm } from 'node:fs/promises';
import os from 'node:os';
import { backoffMs, errorReason, isRetryable, PermanentError, reportRetry, sleep, type RunConfig } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { canFork, ChildLane, type ShardRunner } from './child-lane.js';
import { RunContext, tmpDirFor } from './context.js';
import { finalizeRun, type Manifest } from './finalize.js';
import { planRun } from './plan.js';
import { Progress } from './progress.js';
import { INDEX_SHARD, runShard } from './run-shard.js';
import type { RunPlan, Stage } from './run-state.js';
import type { ShardStats } from './stats.js';
import { qdrantSettings } from './vectors-backend.js';

export interface LocalRunOptions {
  /** Progress output; defaults to stderr. */
  progressStream?: NodeJS.WriteStream;
  quiet?: boolean;
}

/**
 * The local executor: plan → embed → index → synth → manifest on one machine. Shards run on
 * `concurrency` lanes (one core each): this process and `concurrency - 1` shard processes kept
 * for the whole run; re-running resumes from done markers.
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
    const timings: Record<string, number> = { plan_seconds: secs(t0) };
    // this process is a lane too: it has the tokenizer loaded already, and a process fewer starts
    const here = new InProcess(plan);
    const runners: ShardRunner[] = [here, ...children];
    try {
      await runStage(runners, 'embed', byWork(plan.poolShards), total(plan.poolShards), 'docs', opts, timings);
      const index = new InProcess(plan);
      await runStage([index], 'index', [INDEX_SHARD], plan.poolShards.length, 'segments', opts, timings);
      await index.close();
      const work = (s: { id: string; records: number }) => plan.sample?.[s.id]?.length ?? s.records;
      await runStage(runners, 'synth', byWork(plan.inputShards, work), total(plan.inputShards, work), 'docs', opts, timings);
    } finally {
      await here.close();
    }
    timings.total_seconds = secs(t0);
    return await finalizeRun(store, plan, timings);
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

type Sized = { id: string; records: number };

function total(shards: Sized[], work: (s: Sized) => number = (s) => s.records): number {
  return shards.reduce((a, s) => a + work(s), 0);
}

/**
 * Shard ids, most work first (ties in plan order): the lanes then end close together instead
 * of one lane running a big shard alone at the end. Completion order never reaches the output.
 */
function byWork(shards: Sized[], work: (s: Sized) => number = (s) => s.records): string[] {
  return shards
    .map((s, i) => ({ id: s.id, w: work(s), i }))
    .sort((a, b) => b.w - a.w || a.i - b.i)
    .map((s) => s.id);
}

/** Attempts of a shard that fails with a RetryableError (an S3 outage that outlasted its retry budget, say). */
const SHARD_ATTEMPTS = 3;

/**
 * Runs one shard; a RetryableError is retried (backoff with jitter, each retry reported with
 * target `shard`), anything else fails at once. Progress of a failed attempt is taken back.
 */
async function runWithRetry(runner: ShardRunner, stage: Stage, id: string, bar: Progress): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let units = 0;
    try {
      await runner.run(stage, id, (n) => {
        units += n;
        bar.add(n);
      });
      return;
    } catch (err) {
      bar.add(-units);
      if (!isRetryable(err) || attempt >= SHARD_ATTEMPTS) throw err;
      const delayMs = backoffMs(attempt, { baseMs: 1000 });
      reportRetry({ target: 'shard', reason: errorReason(err), attempt, delayMs, what: `${stage} shard ${id}: ${(err as Error).message}` });
      await sleep(delayMs);
    }
  }
}

function secs(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}

/** Runs a stage's shards, each lane (runner) taking the next one when it is free. */
async function runStage(
  runners: ShardRunner[],
  stage: Stage,
  ids: string[],
  units: number,
  unit: string,
  opts: LocalRunOptions,
  timings: Record<string, number>,
): Promise<void> {
  const t0 = performance.now();
  const bar = new Progress(stage, units, unit, opts.progressStream, opts.quiet);
  const failures: string[] = [];
  const queue = [...ids];
  await Promise.all(
    runners.map(async (runner) => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await runWithRetry(runner, stage, id, bar);
        } catch (err) {
          failures.push(`${stage} shard ${id}: ${(err as Error).message}`);
        }
      }
    }),
  );
  bar.finish();
  timings[`${stage}_seconds`] = secs(t0);
  if (failures.length) {
    throw new PermanentError(
      `${failures.length} ${stage} shard(s) failed; completed shards are kept, re-run to resume:\n  ${failures.join('\n  ')}`,
    );
  }
}

class InProcess implements ShardRunner {
  private readonly ctx: RunContext;
  constructor(plan: RunPlan) {
    this.ctx = RunContext.forOut(plan);
  }
  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats> {
    return runShard(this.ctx, stage, shardId, onProgress);
  }
  close(): Promise<void> {
    return this.ctx.close();
  }
}
