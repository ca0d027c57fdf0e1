/**
 * The one orchestration of a run, for both executors: for each stage (embed, index, synth) hand
 * its shards to an executor — the transport: local lanes, or BullMQ jobs — then check the
 * barrier (every done marker exists), then finalize. A failed shard is retried by one policy,
 * by error class (`SHARD_RETRY`, `shardRetryDelay` in core): here for lanes, and by BullMQ with
 * the same attempts and backoff for the fleet.
 */
import { errorReason, logger, PermanentError, reportRetry, SHARD_RETRY, shardRetryDelay, sleep, withLogFields, type ObjectStore, type ShardRetryPolicy } from '@nextlong/core';
import type { ShardRunner } from './child-lane.js';
import { finalizeRun, type Manifest } from './finalize.js';
import { INDEX_SHARD } from './run-shard.js';
import { keys, type RunPlan, type Stage } from './run-state.js';

/** One stage's work as the driver hands it to an executor. */
export interface StageWork {
  stage: Stage;
  /** Shard ids in plan order, each with the units of work it reports as progress. */
  shards: { id: string; units: number }[];
  /** What the units are (`docs`, `segments`). */
  unit: string;
}

/** The executor port: runs a stage's shards until each is done (marker written) or failed for good (then rejects). */
export interface StageExecutor {
  runStage(work: StageWork): Promise<void>;
}

/** The stages of a run, in order, with their shards. */
export function stagesOf(plan: RunPlan): StageWork[] {
  return [
    { stage: 'embed', unit: 'docs', shards: plan.poolShards.map((s) => ({ id: s.id, units: s.records })) },
    { stage: 'index', unit: 'segments', shards: [{ id: INDEX_SHARD, units: plan.poolShards.length }] },
    // with --sequences N a shard's work is its sampled records
    { stage: 'synth', unit: 'docs', shards: plan.inputShards.map((s) => ({ id: s.id, units: plan.sample?.[s.id]?.length ?? s.records })) },
  ];
}

export interface DriveOptions {
  /** Timings so far (`plan_seconds`); the stages' and the total are added. */
  timings: Record<string, number>;
  /** When the run started (performance.now()), for `total_seconds`. */
  startedAt: number;
}

/** Runs every stage of a planned run through `executor`, then writes the manifest. */
export async function driveRun(plan: RunPlan, store: ObjectStore, executor: StageExecutor, o: DriveOptions): Promise<Manifest> {
  for (const work of stagesOf(plan)) {
    const s0 = performance.now();
    logger().debug({ run: plan.runId, stage: work.stage }, `${work.stage}: ${work.shards.length} shard(s)`);
    // every line logged while the stage runs here carries its run and stage
    await withLogFields({ run: plan.runId, stage: work.stage }, () => executor.runStage(work));
    await checkBarrier(store, work);
    o.timings[`${work.stage}_seconds`] = secs(s0);
  }
  o.timings.total_seconds = secs(o.startedAt);
  return finalizeRun(store, plan, o.timings);
}

/** The barrier: a stage is complete when every shard's done marker exists (DESIGN §2), whatever the executor said. */
export async function checkBarrier(store: ObjectStore, work: StageWork): Promise<void> {
  const prefix = `done/${work.stage}/`;
  const done = new Set<string>();
  for await (const k of store.list(prefix)) done.add(k.slice(prefix.length));
  const missing = work.shards.filter((s) => !done.has(s.id)).map((s) => s.id);
  if (missing.length) {
    throw new PermanentError(`${work.stage}: ${missing.length} shard(s) have no done marker (${keys.done(work.stage, missing[0]!)}…) after the stage ran; re-run to resume`);
  }
}

/**
 * Shard ids, most work first (ties in plan order): lanes then end close together instead of one
 * lane running a big shard alone at the end. Completion order never reaches the output.
 */
export function byWork(work: StageWork): string[] {
  return work.shards
    .map((s, i) => ({ ...s, i }))
    .sort((a, b) => b.units - a.units || a.i - b.i)
    .map((s) => s.id);
}

export interface LaneOptions {
  /** Progress of the stage in units; a failed attempt's units are taken back. */
  onProgress?: (units: number) => void;
  policy?: ShardRetryPolicy;
}

/**
 * Runs a stage's shards on lanes (each takes the next shard when free). A failed attempt is
 * retried by the policy (reported with target `shard`); a shard that failed for good does not
 * stop the others, and the stage then fails naming every one (completed shards are kept).
 */
export async function runOnLanes(runners: ShardRunner[], work: StageWork, o: LaneOptions = {}): Promise<void> {
  const failures: string[] = [];
  const queue = byWork(work);
  await Promise.all(
    runners.map(async (runner) => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await withLogFields({ shard: id }, () => runWithRetry(runner, work.stage, id, o));
        } catch (err) {
          failures.push(`${work.stage} shard ${id}: ${(err as Error).message}`);
        }
      }
    }),
  );
  if (failures.length) {
    throw new PermanentError(`${failures.length} ${work.stage} shard(s) failed; completed shards are kept, re-run to resume:\n  ${failures.join('\n  ')}`);
  }
}

async function runWithRetry(runner: ShardRunner, stage: Stage, id: string, o: LaneOptions): Promise<void> {
  const progress = o.onProgress ?? (() => {});
  for (let attempt = 1; ; attempt++) {
    let units = 0;
    try {
      await runner.run(stage, id, (n) => {
        units += n;
        progress(n);
      });
      return;
    } catch (err) {
      progress(-units);
      const delayMs = shardRetryDelay(err, attempt, o.policy ?? SHARD_RETRY);
      if (delayMs === undefined) throw err;
      reportRetry({ target: 'shard', reason: errorReason(err), attempt, delayMs, what: `${stage} shard ${id}: ${(err as Error).message}` });
      await sleep(delayMs);
    }
  }
}

function secs(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}
