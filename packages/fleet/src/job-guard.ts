import path from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { readPlan, runIdOf, type RunPlan } from '@nextlong/pipeline';
import type { StreamingObjectStore } from '@nextlong/storage';
import { runKey, type JobPayload } from './jobs.js';

/**
 * Queue contents are untrusted (anyone who can write to Redis can add a job): before a worker
 * reads anything a job points at, the job must name a run a coordinator registered, at the
 * output it registered, under an allowed prefix, and the `run.json` found there must be that
 * run's (its config hashes to the run id). Anything else fails for good, with the reason.
 */
export async function checkJobRun(p: JobPayload, redis: Redis, openStore: (out: string) => StreamingObjectStore, allowedOutputs: readonly string[] = []): Promise<{ plan: RunPlan; store: StreamingObjectStore }> {
  const refuse = (why: string) => new UnrecoverableError(`refused job for run ${p.runId} (out ${p.out}): ${why}`);
  if (allowedOutputs.length && !allowedOutputs.some((prefix) => isUnder(p.out, prefix))) {
    throw refuse(`out is not under NEXTLONG_ALLOWED_OUTPUTS (${allowedOutputs.join(', ')})`);
  }
  const registered = await redis.hget(runKey(p.runId), 'out');
  if (!registered) throw refuse('no coordinator registered this run in Redis');
  if (registered !== p.out) throw refuse(`the run's registered output is ${registered}`);
  const store = openStore(p.out);
  const plan = await readPlan(store);
  if (!plan) throw refuse(`no run.json in ${store.root}`);
  const hashed = runIdOf(plan.config);
  if (hashed !== p.runId || plan.runId !== p.runId) throw refuse(`run.json in ${store.root} is not this run's (its config hashes to ${hashed}, it names ${plan.runId})`);
  if (plan.config.out !== p.out) throw refuse(`run.json in ${store.root} was planned for out ${plan.config.out}`);
  return { plan, store };
}

/** NEXTLONG_ALLOWED_OUTPUTS: comma-separated prefixes of outputs a worker may write to. */
export function allowedOutputsOf(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.NEXTLONG_ALLOWED_OUTPUTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `out` is the prefix itself or inside it, by whole path segments (`/data/out` does not admit `/data/outside`, nor `/data/out/../x`). */
export function isUnder(out: string, prefix: string): boolean {
  const norm = (s: string) => (s.startsWith('s3://') ? s : path.resolve(s)).replace(/\/+$/, '');
  const o = norm(out);
  const p = norm(prefix);
  return o === p || o.startsWith(`${p}/`);
}
