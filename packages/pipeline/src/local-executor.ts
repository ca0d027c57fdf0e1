import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backoffMs, errorReason, isRetryable, PermanentError, reportRetry, sleep, type RunConfig } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { RunContext, tmpDirFor } from './context.js';
import { finalizeRun, type Manifest } from './finalize.js';
import { planRun } from './plan.js';
import { Progress } from './progress.js';
import { INDEX_SHARD, runShard } from './run-shard.js';
import type { RunPlan, Stage } from './run-state.js';
import type { ChildMessage } from './shard-process.js';
import type { ShardStats } from './stats.js';
import { qdrantSettings } from './vectors-backend.js';

export interface LocalRunOptions {
  /** Progress output; defaults to stderr. */
  progressStream?: NodeJS.WriteStream;
  quiet?: boolean;
}

/** A way to run one shard: in this process, or in a pool of child processes. */
interface ShardRunner {
  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats>;
  close(): Promise<void>;
}

/**
 * The local executor: plan → embed → index → synth → manifest on one machine. Shards run
 * in `concurrency` child processes (one core each); re-running resumes from done markers.
 */
export async function runLocal(config: RunConfig, opts: LocalRunOptions = {}): Promise<Manifest> {
  const t0 = performance.now();
  if (config.vectors === 'qdrant') qdrantSettings(); // a missing QDRANT_URL stops us before any work
  const store = openObjectStore(config.out);
  const plan = await planRun(config, store, loadTokenizer(config.tokenizer));
  // temporary files of an interrupted run are garbage: every shard rewrites its own
  await rm(tmpDirFor(store, plan.runId), { recursive: true, force: true });
  const timings: Record<string, number> = { plan_seconds: secs(t0) };
  const n = config.concurrency || os.availableParallelism();
  const runner: ShardRunner = n > 1 && existsSync(childScript()) ? new ProcessPool(n, config.out) : new InProcess(plan);
  try {
    await runStage(
      runner,
      'embed',
      plan.poolShards.map((s) => s.id),
      total(plan.poolShards),
      'docs',
      opts,
      timings,
    );
    const index = new InProcess(plan);
    await runStage(index, 'index', [INDEX_SHARD], plan.poolShards.length, 'segments', opts, timings);
    await index.close();
    const inputs = plan.inputShards.map((s) => s.id);
    const toSynth = plan.sample ? Object.values(plan.sample).reduce((a, l) => a + l.length, 0) : total(plan.inputShards);
    await runStage(runner, 'synth', inputs, toSynth, 'docs', opts, timings);
  } finally {
    await runner.close();
  }
  timings.total_seconds = secs(t0);
  return finalizeRun(store, plan, timings);
}

function total(shards: { records: number }[]): number {
  return shards.reduce((a, s) => a + s.records, 0);
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

async function runStage(
  runner: ShardRunner,
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
  const lanes = runner instanceof ProcessPool ? runner.size : 1;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
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

function childScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'shard-process.js');
}

/** Child processes, each running one shard at a time. */
class ProcessPool implements ShardRunner {
  private readonly idle: ChildProcess[] = [];
  private readonly all: ChildProcess[] = [];
  constructor(
    readonly size: number,
    out: string,
  ) {
    for (let i = 0; i < size; i++) {
      const child = fork(childScript(), [out], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.all.push(child);
      this.idle.push(child);
    }
  }

  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats> {
    const child = this.idle.pop();
    if (!child) throw new Error('no idle shard process');
    return new Promise<ShardStats>((resolve, reject) => {
      const onExit = (code: number | null) => finish(() => reject(new Error(`shard process exited with code ${code}`)));
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'progress') onProgress(m.units);
        else if (m.type === 'done') finish(() => resolve(m.stats as ShardStats));
        else finish(() => reject(Object.assign(new Error(m.message), { name: m.name })));
      };
      const finish = (f: () => void) => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (child.connected) this.idle.push(child);
        f();
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'run', stage, shardId });
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.all.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || !c.connected) return resolve();
            c.once('exit', () => resolve());
            c.disconnect();
          }),
      ),
    );
  }
}
