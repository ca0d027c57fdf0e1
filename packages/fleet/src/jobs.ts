import type { DefaultJobOptions } from 'bullmq';
import { SHARD_RETRY } from '@nextlong/core';
import { z } from 'zod';

/** Queues: embed workers take `embed` and `index` jobs, synth workers take `synth` jobs. */
export const QUEUES = { embed: 'nextlong-embed', synth: 'nextlong-synth' } as const;
export type WorkerStage = keyof typeof QUEUES;

/** A job names a shard; documents never travel on the queue (DESIGN §2). */
export const JobPayloadSchema = z
  .object({
    runId: z.string().regex(/^[0-9a-f]{16}$/),
    stage: z.enum(['embed', 'index', 'synth']),
    shard: z.string().min(1).max(300),
    /** The run's output location: where run.json, inputs' shards and outputs are found. */
    out: z.string().min(1),
  })
  .strict();
export type JobPayload = z.infer<typeof JobPayloadSchema>;

export function queueOf(stage: JobPayload['stage']): string {
  return stage === 'synth' ? QUEUES.synth : QUEUES.embed;
}

/** Deterministic job id (BullMQ ids must not contain ':'): re-enqueueing a shard is a no-op. */
export function jobIdOf(p: Pick<JobPayload, 'runId' | 'stage' | 'shard'>): string {
  return `${p.runId}-${p.stage}-${p.shard}`.replace(/:/g, '_');
}

/** Name of the workers' backoff strategy (`shardRetryDelay`): the local executor's retry policy, on BullMQ. */
export const SHARD_BACKOFF = 'nextlong-shard';

export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: SHARD_RETRY.attempts,
  backoff: { type: SHARD_BACKOFF },
  removeOnComplete: { count: 10_000, age: 7 * 24 * 3600 },
  removeOnFail: { count: 10_000, age: 14 * 24 * 3600 },
};

/** Redis hash of a run's coordinates, for `nextlong status --redis --run`. */
export const runKey = (runId: string) => `nextlong-run-${runId}`;
