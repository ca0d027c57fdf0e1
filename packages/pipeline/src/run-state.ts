import { createHash } from 'node:crypto';
import type { ObjectStore, RunConfig } from '@nextlong/core';
import type { ShardSpec } from '@nextlong/storage';

export type Stage = 'embed' | 'index' | 'synth';

/** Everything a worker needs about a run, stored once as `<out>/run.json`. */
export interface RunPlan {
  runId: string;
  createdAt: string;
  config: RunConfig;
  /** E: code points per token of the configured tokenizer (configured or measured). */
  charsPerToken: number;
  poolIsInput: boolean;
  poolShards: ShardSpec[];
  inputShards: ShardSpec[];
  /** With `--sequences N`: per input shard, the sampled record ordinals. */
  sample?: Record<string, number[]>;
}

export const keys = {
  plan: 'run.json',
  manifest: 'manifest.json',
  done: (stage: Stage, shardId: string) => `done/${stage}/${shardId}`,
  stats: (stage: Stage, shardId: string) => `stats/${stage}/${shardId}.json`,
  part: (shardId: string) => `sequences/part-${shardId}.jsonl.zst`,
  rejects: (shardId: string) => `rejects/part-${shardId}.jsonl`,
  mdsRoot: 'mds/',
  mdsDir: (shardId: string) => `mds/${shardId}/`,
};

/**
 * Options that never change the output: a run resumed with other values is the same run, and
 * takes the new values (more threads, a verification pass, a longer wait).
 */
const RUNTIME_KEYS = ['concurrency', 'indexThreads', 'verifyTokens', 'qdrantIndexWaitSeconds'] as const;

/** The runtime options of `config` (see RUNTIME_KEYS). */
export function runtimeOptions(config: RunConfig): Pick<RunConfig, (typeof RUNTIME_KEYS)[number]> {
  return Object.fromEntries(RUNTIME_KEYS.map((k) => [k, config[k]])) as Pick<RunConfig, (typeof RUNTIME_KEYS)[number]>;
}

/** A run id derived from what determines the output, so re-running the same command resumes. */
export function runIdOf(config: RunConfig): string {
  const rest: Record<string, unknown> = { ...config };
  for (const k of RUNTIME_KEYS) delete rest[k];
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

export async function readPlan(store: ObjectStore): Promise<RunPlan | undefined> {
  if (!(await store.exists(keys.plan))) return undefined;
  return JSON.parse(Buffer.from(await store.get(keys.plan)).toString('utf8')) as RunPlan;
}

export async function isDone(store: ObjectStore, stage: Stage, shardId: string): Promise<boolean> {
  return store.exists(keys.done(stage, shardId));
}

export async function readStats<T>(store: ObjectStore, stage: Stage, shardId: string): Promise<T> {
  return JSON.parse(Buffer.from(await store.get(keys.stats(stage, shardId))).toString('utf8')) as T;
}
