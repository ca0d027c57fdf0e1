import os from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { failureClass, logger, shardRetryDelay, withLogFields } from '@nextlong/core';
import { RunContext, runShard, type ShardStats } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { checkJobRun } from './job-guard.js';
import { JobPayloadSchema, QUEUES, SHARD_BACKOFF, type JobPayload, type WorkerStage } from './jobs.js';
import { isRedisConnectionError, RedisLink } from './redis.js';
import { initStageMetrics, metrics } from '@nextlong/metrics';

export interface WorkerOptions {
  redisUrl: string;
  stage: WorkerStage;
  /** Jobs run at once by this process (shards are CPU-bound: 1 per core is the norm). */
  concurrency: number;
  /** BullMQ lock duration; the lock is renewed every half of it. */
  lockMs: number;
  /** On SIGTERM: how long running shards may take before they are handed back. */
  graceMs: number;
  /** Output prefixes this worker may write to (NEXTLONG_ALLOWED_OUTPUTS); empty: any registered output. */
  allowedOutputs?: readonly string[];
  /** Give up when Redis cannot be reached at start within this long (default 30 s). */
  connectTimeoutMs?: number;
  /** The worker's name in `CLIENT LIST` (how the coordinator counts workers); default host-pid. */
  name?: string;
  /** Where the worker's lines go (default: the process logger with `stage`; lines of a job add its `run` and `shard`). */
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** Stops taking jobs; running shards finish or are handed back within the grace period. */
  shutdown(): Promise<void>;
  /** Resolves after shutdown; rejects with a ConfigError when Redis refuses authentication or TLS. */
  readonly closed: Promise<void>;
  ready(): boolean;
}

/**
 * A fleet worker: takes shard jobs of one stage and runs them with the pipeline's runShard.
 * Resolves once connected to Redis; rejects (ConfigError) when it cannot connect within
 * `connectTimeoutMs` or Redis refuses its credentials or TLS.
 */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const base = logger().child({ stage: o.stage });
  const log = (l: string, level: 'info' | 'warn' = 'info') => (o.log ? o.log(l) : base[level](l));
  const link = new RedisLink(o.redisUrl, { connectTimeoutMs: o.connectTimeoutMs, log: (l) => log(l) });
  try {
    await link.ready();
  } catch (err) {
    link.close();
    throw err;
  }
  // one context (model session, index) per run; idle ones beyond the newest two are closed so
  // a long-lived worker serving many runs does not grow without bound
  const contexts = new Map<string, { ctx: Promise<RunContext>; active: number }>();
  const active = new Map<string, AbortController>();
  let handingBack = false;

  const contextFor = (p: JobPayload) => {
    const key = `${p.runId}\u0000${p.out}`;
    let entry = contexts.get(key);
    if (entry) contexts.delete(key); // re-insert: the map's order is recency
    else {
      const ctx = (async () => {
        const { plan, store } = await checkJobRun(p, link.client, (out) => openObjectStore(out), o.allowedOutputs);
        return new RunContext(plan, store);
      })();
      ctx.catch(() => contexts.delete(key));
      entry = { ctx, active: 0 };
    }
    contexts.set(key, entry);
    return entry;
  };

  const evictIdle = async () => {
    const idle = [...contexts].filter(([, e]) => e.active === 0).slice(0, Math.max(0, contexts.size - 2));
    for (const [key, e] of idle) {
      contexts.delete(key);
      await e.ctx.then((c) => c.close()).catch(() => {});
    }
  };

  // every line logged while a job runs (its S3 retries too) carries the job's run, stage and shard
  const processJob = (job: Job, token?: string): Promise<Partial<ShardStats>> => {
    const p = JobPayloadSchema.safeParse(job.data).data;
    return p ? withLogFields({ run: p.runId, stage: p.stage, shard: p.shard }, () => runJob(job, token)) : runJob(job, token);
  };

  const runJob = async (job: Job, token?: string): Promise<Partial<ShardStats>> => {
    const parsed = JobPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id}: invalid payload: ${parsed.error.issues[0]?.message}`);
    const p = parsed.data;
    const ac = new AbortController();
    active.set(job.id!, ac);
    let last = 0;
    const entry = contextFor(p);
    entry.active++;
    try {
      const ctx = await entry.ctx;
      let units = 0;
      const stats = await runShard(
        ctx,
        p.stage,
        p.shard,
        (n) => {
          units += n;
          if (Date.now() - last > 2000) {
            last = Date.now();
            void job.updateProgress(units).catch(() => {});
          }
        },
        ac.signal,
      );
      log(`${p.stage} shard ${p.shard} done in ${stats.seconds.toFixed(1)} s`);
      return { documents_read: stats.documents_read, sequences_written: stats.sequences_written, chunks_indexed: stats.chunks_indexed };
    } catch (err) {
      if (ac.signal.aborted && handingBack) {
        // shutting down: hand the shard back to the queue for another worker
        await job.moveToWait(token);
        log(`${p.stage} shard ${p.shard} handed back to the queue (grace period over)`);
        throw new WaitingError();
      }
      const e = err as Error;
      log(`${p.stage} shard ${p.shard} failed (attempt ${job.attemptsMade + 1}, ${failureClass(err)}): ${e.message}`, 'warn');
      // the shared retry policy (core SHARD_RETRY): permanent errors are not retried, others by the backoff strategy below
      if (failureClass(err) === 'permanent') throw new UnrecoverableError(e.message);
      throw err;
    } finally {
      active.delete(job.id!);
      entry.active--;
      await evictIdle();
    }
  };

  initStageMetrics(o.stage === 'embed' ? ['embed', 'index'] : ['synth']);
  const connection = link.client;
  const worker = new Worker(QUEUES[o.stage], processJob, {
    connection,
    name: o.name ?? `${os.hostname()}-${process.pid}`,
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(1000, Math.floor(o.lockMs / 2)),
    maxStalledCount: 2,
    settings: {
      // -1: no further attempt (BullMQ's convention); attempts are counted by the job's options too
      backoffStrategy: (attemptsMade: number, type?: string, err?: Error) => (type === SHARD_BACKOFF ? (shardRetryDelay(err, attemptsMade) ?? -1) : -1),
    },
    autorun: true,
  });
  let ready = false;
  worker.on('ready', () => {
    ready = true;
    log(`worker ${o.stage} ready on ${link.where} (concurrency ${o.concurrency})`);
  });
  worker.on('error', (err) => {
    link.noteError(err);
    // an outage is one `retry redis` line (RedisLink), a fatal error one line at exit
    if (!isRedisConnectionError(err) && !link.fatal) log(`worker error: ${err.message}`, 'warn');
  });
  worker.on('stalled', (jobId) => {
    metrics.jobsStalled.inc({ stage: o.stage });
    log(`job ${jobId} stalled: its lock expired and it goes back to the queue`, 'warn');
  });
  worker.on('failed', (job) => {
    if (job && job.attemptsMade < (job.opts.attempts ?? 1)) metrics.shardRetries.inc({ stage: o.stage });
  });
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  let rejectClosed!: (e: Error) => void;
  const closed = new Promise<void>((res, rej) => ((resolveClosed = res), (rejectClosed = rej)));
  link.onFatal((e) => {
    // no retry fixes credentials or TLS: stop at once; running shards go back to the queue when their locks expire
    void worker.close(true).catch(() => {});
    link.close();
    rejectClosed(e);
  });

  return {
    ready: () => ready && !closing,
    closed,
    shutdown() {
      closing ??= (async () => {
        log(`worker ${o.stage}: shutting down (grace ${Math.round(o.graceMs / 1000)} s)`);
        const timer = setTimeout(() => {
          handingBack = true;
          for (const ac of active.values()) ac.abort(new Error('worker shutting down'));
        }, o.graceMs);
        await worker.close();
        clearTimeout(timer);
        for (const e of contexts.values()) await e.ctx.then((x) => x.close()).catch(() => {});
        link.close();
        resolveClosed();
      })();
      return closing;
    },
  };
}
