import { Queue } from 'bullmq';
import { isDone, readPlan, stagesOf } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { QUEUES, runKey } from './jobs.js';
import { DEFAULT_REDIS_CONNECT_TIMEOUT_MS, RedisLink } from './redis.js';

/**
 * `nextlong status --redis <url> --run <id>`: per stage shards done / total, queue counts,
 * connected workers, failures. Gives up (ConfigError) when Redis cannot be reached within
 * `connectTimeoutMs` or refuses the credentials or TLS, rather than waiting for ever.
 */
export async function fleetStatus(redisUrl: string, runId: string, connectTimeoutMs = DEFAULT_REDIS_CONNECT_TIMEOUT_MS): Promise<string> {
  const link = new RedisLink(redisUrl, { connectTimeoutMs, outageBudgetMs: connectTimeoutMs });
  const queues: Queue[] = [];
  try {
    await link.ready();
    const redis = link.client;
    const info = await redis.hgetall(runKey(runId));
    if (!info.out) throw new Error(`run ${runId} is not known to this Redis`);
    const store = openObjectStore(info.out);
    const plan = await readPlan(store);
    if (!plan) throw new Error(`no run.json in ${store.root}`);
    const lines = [`run ${runId} → ${store.root} (started ${plan.createdAt}${info.finishedAt ? `, finished ${info.finishedAt}` : ''})`];
    for (const { stage, shards } of stagesOf(plan)) {
      let done = 0;
      for (const s of shards) if (await isDone(store, stage, s.id)) done++;
      lines.push(`${stage.padEnd(6)} ${done}/${shards.length} shards (${((100 * done) / shards.length).toFixed(0)}%)`);
    }
    for (const name of Object.values(QUEUES)) {
      const q = new Queue(name, { connection: redis });
      queues.push(q);
      q.on('error', (err) => link.noteError(err));
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      const workers = await q.getWorkersCount();
      const failed = (await q.getJobs(['failed'])).filter((j) => j.id?.startsWith(`${runId}-`));
      lines.push(`queue ${name}: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}; ${workers} worker(s) connected`);
      for (const j of failed) lines.push(`  failed ${j.id}: ${j.failedReason}`);
    }
    return lines.join('\n');
  } catch (err) {
    throw link.failure ?? err;
  } finally {
    if (!link.failure) await Promise.all(queues.map((q) => q.close().catch(() => {})));
    link.close();
  }
}
