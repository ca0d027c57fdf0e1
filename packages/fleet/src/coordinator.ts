import { Queue } from 'bullmq';
import { PermanentError, type RunConfig } from '@nextlong/core';
import { finalizeRun, planRun, Progress, type Manifest, type RunPlan, type Stage } from '@nextlong/pipeline';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { DEFAULT_JOB_OPTIONS, jobIdOf, queueOf, QUEUES, runKey, type JobPayload } from './jobs.js';
import { connectRedis } from './redis.js';
import { setQueueCounts, setRunInfo, setShardCounts } from '@nextlong/metrics';

export interface CoordinatorOptions {
  redisUrl: string;
  config: RunConfig;
  /** How often to look at done markers and failed jobs. */
  pollMs?: number;
  quiet?: boolean;
  signal?: AbortSignal;
}

/**
 * The fleet coordinator: plan, enqueue each stage's shards, wait at the barrier, finalize.
 * Stopping and starting it again continues the same run: the plan is reloaded from
 * `<out>/run.json`, done shards are skipped and job ids are deterministic.
 */
export async function runCoordinator(o: CoordinatorOptions): Promise<Manifest> {
  const t0 = performance.now();
  const store = openObjectStore(o.config.out);
  const plan = await planRun(o.config, store, loadTokenizer(o.config.tokenizer));
  const redis = connectRedis(o.redisUrl);
  const queues: Record<string, Queue> = { [QUEUES.embed]: new Queue(QUEUES.embed, { connection: redis }), [QUEUES.synth]: new Queue(QUEUES.synth, { connection: redis }) };
  const timings: Record<string, number> = { plan_seconds: secs(t0) };
  try {
    await redis.hset(runKey(plan.runId), { out: o.config.out, createdAt: plan.createdAt });
    setRunInfo(plan.runId);
    const stages: [Stage, string[], number][] = [
      ['embed', plan.poolShards.map((s) => s.id), plan.poolShards.length],
      ['index', ['index'], 1],
      ['synth', plan.inputShards.map((s) => s.id), plan.inputShards.length],
    ];
    for (const [stage, ids] of stages) {
      const s0 = performance.now();
      await runStage(o, plan, store, queues[queueOf(stage)]!, stage, ids);
      timings[`${stage}_seconds`] = secs(s0);
    }
    timings.total_seconds = secs(t0);
    const manifest = await finalizeRun(store, plan, timings);
    await redis.hset(runKey(plan.runId), { finishedAt: manifest.finished_at });
    return manifest;
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    redis.disconnect();
  }
}

function secs(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}

async function doneSet(store: StreamingObjectStore, stage: Stage): Promise<Set<string>> {
  const done = new Set<string>();
  const prefix = `done/${stage}/`;
  for await (const k of store.list(prefix)) done.add(k.slice(prefix.length));
  return done;
}

/** Enqueues the stage's unfinished shards and waits until every one has its done marker. */
async function runStage(o: CoordinatorOptions, plan: RunPlan, store: StreamingObjectStore, queue: Queue, stage: Stage, ids: string[]): Promise<void> {
  let done = await doneSet(store, stage);
  const pending = ids.filter((id) => !done.has(id));
  const payload = (shard: string): JobPayload => ({ runId: plan.runId, stage, shard, out: o.config.out });
  // a job left failed by an earlier attempt is retried now: restarting is the user's retry
  for (const id of pending) {
    const job = await queue.getJob(jobIdOf(payload(id)));
    if (job && (await job.isFailed())) await job.remove();
  }
  await queue.addBulk(pending.map((id) => ({ name: stage, data: payload(id), opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdOf(payload(id)) } })));
  const bar = new Progress(stage, ids.length, 'shards', process.stderr, o.quiet);
  bar.add(ids.length - pending.length);
  let seen = ids.length - pending.length;
  const want = new Set(ids);
  const failedBefore = await queue.getFailedCount();
  for (;;) {
    done = await doneSet(store, stage);
    const n = [...want].filter((id) => done.has(id)).length;
    if (n > seen) bar.add(n - seen);
    seen = n;
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    setQueueCounts(queue.name, counts);
    setShardCounts(stage, { done: n, active: counts.active ?? 0, pending: ids.length - n - (counts.active ?? 0), failed: 0 });
    if (n === ids.length) break;
    await failIfAnyFailed(queue, jobIdOf(payload('')), stage, failedBefore);
    o.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
  bar.finish();
  setShardCounts(stage, { done: ids.length });
}

/** Jobs of this run and stage that failed for good (retries exhausted or unrecoverable). */
async function failIfAnyFailed(queue: Queue, idPrefix: string, stage: Stage, failedBefore: number): Promise<void> {
  // only look through the failed set when it has grown: old runs' failures are kept for days
  if ((await queue.getFailedCount()) <= failedBefore) return;
  const failed = (await queue.getJobs(['failed'])).filter((j) => j.id?.startsWith(idPrefix));
  if (failed.length) {
    const lines = failed.map((j) => `${j.id}: ${j.failedReason}`);
    throw new PermanentError(`${failed.length} ${stage} shard(s) failed for good; fix the cause and start the coordinator again to retry them:\n  ${lines.join('\n  ')}`);
  }
}
