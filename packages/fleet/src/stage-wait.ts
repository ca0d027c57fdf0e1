import type { Queue } from 'bullmq';
import { PermanentError, sleep } from '@nextlong/core';
import { metrics, setQueueCounts, setShardCounts } from '@nextlong/metrics';
import { isDone, Progress, readStats, type RunPlan, type ShardStats, type Stage, type StageExecutor, type StageWork } from '@nextlong/pipeline';
import type { StreamingObjectStore } from '@nextlong/storage';
import { DEFAULT_JOB_OPTIONS, jobIdOf, runKey, type JobPayload, type WorkerStage } from './jobs.js';
import type { RedisLink } from './redis.js';
import { Watchdog } from './watchdog.js';

export interface StageTiming {
  /** How often to look at done markers (ms). */
  pollMs: number;
  /** How often to look at every pending shard's job, connected workers and the watchdog (ms). */
  recheckMs: number;
  /** With no worker connected this long, say so (ms); repeated every `max(30 s, this)`. */
  noWorkersWarnMs: number;
  /** The watchdog's floor (ms): a shard is overdue after max(5 × p99, this). */
  overdueFloorMs: number;
}

export interface StageContext {
  link: RedisLink;
  queues: Record<WorkerStage, Queue>;
  store: StreamingObjectStore;
  plan: RunPlan;
  out: string;
  timing: StageTiming;
  quiet?: boolean;
  signal?: AbortSignal;
}

/** The fleet's transport behind the stage driver: each stage's shards as BullMQ jobs, awaited by their done markers. */
export class FleetStages implements StageExecutor {
  constructor(private readonly c: StageContext) {}
  runStage(work: StageWork): Promise<void> {
    return runStage(this.c, work.stage, work.shards.map((s) => s.id));
  }
}

const workerStageOf = (stage: Stage): WorkerStage => (stage === 'synth' ? 'synth' : 'embed');

async function doneSet(store: StreamingObjectStore, stage: Stage): Promise<Set<string>> {
  const done = new Set<string>();
  const prefix = `done/${stage}/`;
  for await (const k of store.list(prefix)) done.add(k.slice(prefix.length));
  return done;
}

/**
 * Enqueues the stage's unfinished shards and waits until every one has its done marker. The
 * markers are the truth, not BullMQ's memory: a pending shard whose job is missing (Redis lost
 * its data) or completed (its output was deleted or moved) is enqueued again, at start and at
 * every recheck. A shard whose job failed for good is reported at once; the stage fails with
 * every reason once no other shard is left to wait for (workers go on with queued jobs anyway,
 * so their work is kept); restarting the coordinator retries the failed ones.
 */
export async function runStage(c: StageContext, stage: Stage, ids: string[]): Promise<void> {
  const ws = workerStageOf(stage);
  const queue = c.queues[ws];
  const payload = (shard: string): JobPayload => ({ runId: c.plan.runId, stage, shard, out: c.out });
  const idPrefix = jobIdOf(payload(''));
  const bar = new Progress(stage, ids.length, 'shards', process.stderr, c.quiet);
  const watchdog = new Watchdog({ floorMs: c.timing.overdueFloorMs });
  const timed = new Set<string>();
  const started = Date.now();
  let zeroSince: number | undefined = started;
  let lastWarn = 0;
  let lastScan = 0;
  let lastFailedCount = -1;
  let first = true;
  let active = 0;
  let failed = new Map<string, string>(); // shard → "job id: reason", from the latest look
  const reported = new Set<string>();
  let workers: number | undefined;
  for (;;) {
    c.signal?.throwIfAborted();
    const done = await doneSet(c.store, stage);
    const pending = ids.filter((id) => !done.has(id));
    const n = ids.length - pending.length;
    await timeDoneShards(c, stage, ids, done, timed, watchdog);
    c.link.checkOutage();
    if (c.link.failure) throw c.link.failure;
    if (!pending.length) break;
    // Redis away: keep watching the markers (running shards still finish); the link logs the outage
    if (c.link.up || first) {
      setQueueCounts(queue.name, await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed'));
      const failedCount = await queue.getFailedCount();
      const now = Date.now();
      if (first || failedCount !== lastFailedCount || now - lastScan >= c.timing.recheckMs) {
        lastFailedCount = failedCount;
        lastScan = now;
        const scan = await reconcile(c, queue, stage, pending, payload, first, (l) => bar.note(l));
        first = false;
        active = scan.active;
        failed = new Map(scan.failed.map((f) => [f.shard, `${f.id}: ${f.reason}`]));
        // the gauge first: whoever reads a failure line finds it counted
        setShardCounts(stage, shardCounts(n, active, failed.size, pending.length));
        for (const f of scan.failed) {
          if (reported.has(f.shard)) continue;
          reported.add(f.shard);
          bar.note(`${stage} shard ${f.shard} failed for good: ${f.reason}`);
        }
        for (const w of ['embed', 'synth'] as const) {
          // CLIENT LIST may be disabled (managed Redis): then the count is unknown, never a failure
          const k = await c.queues[w].getWorkersCount().catch(() => undefined);
          if (k !== undefined) metrics.workers.set({ stage: w }, k);
          if (w === ws) workers = k;
        }
        if (workers !== 0) zeroSince = undefined;
        else zeroSince ??= now;
        if (zeroSince !== undefined && now - zeroSince >= c.timing.noWorkersWarnMs && now - lastWarn >= Math.max(30_000, c.timing.noWorkersWarnMs)) {
          lastWarn = now;
          bar.note(`waiting for ${ws} workers (0 connected)`);
        }
        const inProgress = scan.active ? (await queue.getJobs(['active'])).filter((j) => j.id?.startsWith(idPrefix) && j.processedOn) : [];
        const wd = watchdog.check(inProgress.map((j) => ({ id: j.data?.shard ?? j.id!, since: j.processedOn! })), now);
        metrics.shardsOverdue.set({ stage }, wd.overdue);
        for (const line of wd.lines) bar.note(line);
      }
    }
    bar.set(n, workers === undefined ? undefined : `${workers} worker${workers === 1 ? '' : 's'}`);
    setShardCounts(stage, shardCounts(n, active, failed.size, pending.length));
    if (pending.every((id) => failed.has(id))) {
      const lines = pending.map((id) => failed.get(id)!);
      throw new PermanentError(`${lines.length} ${stage} shard(s) failed for good; fix the cause and start the coordinator again to retry them:\n  ${lines.join('\n  ')}`);
    }
    await sleep(c.timing.pollMs, c.signal);
  }
  bar.finish();
  setShardCounts(stage, { done: ids.length });
  metrics.shardsOverdue.set({ stage }, 0);
}

function shardCounts(done: number, active: number, failed: number, pending: number) {
  return { done, active, failed, pending: Math.max(0, pending - active - failed) };
}

/** Reads the times of newly done shards for the watchdog's p99 (a few per poll). */
async function timeDoneShards(c: StageContext, stage: Stage, ids: string[], done: Set<string>, timed: Set<string>, watchdog: Watchdog): Promise<void> {
  let budget = 50;
  for (const id of ids) {
    if (!done.has(id) || timed.has(id)) continue;
    if (budget-- <= 0) return;
    timed.add(id);
    const stats = await readStats<ShardStats>(c.store, stage, id).catch(() => undefined);
    if (stats) watchdog.addDone(stats.seconds);
  }
}

interface Scan {
  active: number;
  failed: { shard: string; id: string; reason: string }[];
}

/**
 * Looks at the job of every pending shard and enqueues those that need it. At the stage's start
 * (`retryFailed`) a failed job is removed and enqueued again; later it is reported.
 */
async function reconcile(c: StageContext, queue: Queue, stage: Stage, pending: string[], payload: (shard: string) => JobPayload, retryFailed: boolean, note: (line: string) => void): Promise<Scan> {
  // registered first: workers refuse jobs of runs Redis does not know (it may have lost its data)
  await c.link.client.hset(runKey(c.plan.runId), { out: c.out, createdAt: c.plan.createdAt });
  const scan: Scan = { active: 0, failed: [] };
  const toAdd: string[] = [];
  let missing = 0;
  let stale = 0;
  for (let i = 0; i < pending.length; i += 500) {
    const batch = pending.slice(i, i + 500);
    const states = await Promise.all(batch.map((id) => queue.getJobState(jobIdOf(payload(id)))));
    for (const [k, id] of batch.entries()) {
      const state = states[k];
      const jobId = jobIdOf(payload(id));
      if (state === 'unknown') {
        toAdd.push(id);
        missing++;
      } else if (state === 'completed' || (state === 'failed' && retryFailed)) {
        // completed but no marker: the marker may have been written since the listing
        if (state === 'completed' && (await isDone(c.store, stage, id))) continue;
        await queue.remove(jobId);
        toAdd.push(id);
        if (state === 'completed') stale++;
      } else if (state === 'failed') {
        const job = await queue.getJob(jobId);
        scan.failed.push({ shard: id, id: jobId, reason: job?.failedReason ?? 'unknown reason' });
      } else if (state === 'active') scan.active++;
    }
  }
  if (toAdd.length) {
    await queue.addBulk(toAdd.map((id) => ({ name: stage, data: payload(id), opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIdOf(payload(id)) } })));
  }
  if (stale) note(`${stage}: ${stale} shard(s) had a completed job but no done marker (output deleted or moved?): enqueued again`);
  if (missing && !retryFailed) note(`${stage}: ${missing} pending shard(s) had no job in Redis (Redis lost its data?): enqueued again`);
  return scan;
}
