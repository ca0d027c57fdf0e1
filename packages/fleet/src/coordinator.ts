import { Queue } from 'bullmq';
import type { RunConfig } from '@nextlong/core';
import { driveRun, planRun, type Manifest } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { setRunInfo } from '@nextlong/metrics';
import { QUEUES, runKey, type WorkerStage } from './jobs.js';
import { DEFAULT_REDIS_CONNECT_TIMEOUT_MS, isRedisConnectionError, RedisLink } from './redis.js';
import { FleetStages, type StageTiming } from './stage-wait.js';

export interface CoordinatorOptions extends Partial<StageTiming> {
  redisUrl: string;
  config: RunConfig;
  /** Give up when Redis cannot be reached at start within this long (default 30 s). */
  connectTimeoutMs?: number;
  /** Give up when Redis stays unreachable this long once the run is under way (default 5 min). */
  redisOutageMs?: number;
  quiet?: boolean;
  signal?: AbortSignal;
}

/** Default bound of a Redis outage the coordinator waits out. */
export const DEFAULT_REDIS_OUTAGE_MS = 5 * 60_000;

/**
 * The fleet coordinator: plan, enqueue each stage's shards, wait at the barrier, finalize.
 * Stopping and starting it again continues the same run: the plan is reloaded from
 * `<out>/run.json`, done shards are skipped and job ids are deterministic.
 */
export async function runCoordinator(o: CoordinatorOptions): Promise<Manifest> {
  const t0 = performance.now();
  const connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
  const link = new RedisLink(o.redisUrl, { outageBudgetMs: o.redisOutageMs ?? DEFAULT_REDIS_OUTAGE_MS, connectTimeoutMs });
  const queues = {} as Record<WorkerStage, Queue>;
  try {
    // Redis first: a wrong URL or password is told before minutes of planning
    await link.ready();
    const store = openObjectStore(o.config.out);
    const plan = await planRun(o.config, store, loadTokenizer(o.config.tokenizer));
    for (const ws of ['embed', 'synth'] as const) {
      queues[ws] = new Queue(QUEUES[ws], { connection: link.client });
      // connection errors are the link's to report (one line per outage), never a stack trace each
      queues[ws].on('error', (err) => link.noteError(err));
    }
    const timings: Record<string, number> = { plan_seconds: secs(t0) };
    setRunInfo(plan.runId);
    const timing: StageTiming = {
      pollMs: o.pollMs ?? 500,
      recheckMs: o.recheckMs ?? 2000,
      noWorkersWarnMs: o.noWorkersWarnMs ?? 10_000,
      overdueFloorMs: o.overdueFloorMs ?? 60_000,
    };
    const stages = new FleetStages({ link, queues, store, plan, out: o.config.out, timing, quiet: o.quiet, signal: o.signal });
    const manifest = await driveRun(plan, store, stages, { timings, startedAt: t0 });
    await link.client.hset(runKey(plan.runId), { finishedAt: manifest.finished_at });
    return manifest;
  } catch (err) {
    // a command rejected because the link gave up or met a fatal error: say that, not "Connection is closed"
    throw link.failure ?? (isRedisConnectionError(err) && link.outageSince !== undefined ? new Error(`redis at ${link.where}: ${(err as Error).message}`) : err);
  } finally {
    // with Redis gone, closing the queues would wait for an 'end' that never comes: the link's close ends them all
    if (!link.failure) await Promise.all(Object.values(queues).map((q) => q.close().catch(() => {})));
    link.close();
  }
}

function secs(t0: number): number {
  return Math.round(performance.now() - t0) / 1000;
}
