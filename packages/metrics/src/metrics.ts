/**
 * The process-wide Prometheus registry and every metric NExtLong records (DESIGN §9).
 *
 * Metric names are a contract: dashboards and alerts depend on them. All names carry the
 * `nextlong_` prefix, use base units (seconds, tokens, documents) and never a per-document label;
 * the only id label is `run_id` on `nextlong_run_info`.
 */
import { onRetry } from '@nextlong/core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client';

/** The one registry of this process. Serve it with `startMetricsServer`. */
export const registry = new Registry();

/** Prefix of every NExtLong metric, default process metrics included. */
export const METRIC_PREFIX = 'nextlong_';

// Default process metrics: CPU, memory, handles, GC, event-loop lag (`nextlong_nodejs_eventloop_lag_seconds`).
collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

/**
 * prom-client's gauges that break the Prometheus naming rule "`_total` only on counters"
 * (`promtool check metrics` reports them). Each equals `sum()` of its per-`type` gauge
 * (`nextlong_nodejs_active_handles{type}` etc.), which stays, so nothing is lost by dropping them.
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
].map((n) => METRIC_PREFIX + n);
for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);

/** Latency buckets (seconds) for calls that take from a millisecond to a minute. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Buckets (seconds) for a whole shard, which takes from a fraction of a second to an hour. */
export const SHARD_BUCKETS_SECONDS: readonly number[] = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Buckets for cosine similarity (−1..1): coarse below zero, 0.05 steps from 0 to 1. */
export const COSINE_BUCKETS: readonly number[] = [
  -1,
  -0.75,
  -0.5,
  -0.25,
  ...Array.from({ length: 21 }, (_, i) => (i * 5) / 100), // 0.00, 0.05, …, 1.00
];

/** States of `nextlong_shards{stage,state}`. */
export const SHARD_STATES = ['pending', 'active', 'done', 'failed'] as const;
export type ShardState = (typeof SHARD_STATES)[number];

/** States of `nextlong_queue_jobs{queue,state}` (BullMQ job counts). */
export const QUEUE_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

// One registration each: the name (the contract), its help, label names and, for histograms, buckets.
const counter = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
  new Counter<L>({ name, help, labelNames, registers: [registry] });
const gauge = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
  new Gauge<L>({ name, help, labelNames, registers: [registry] });
const histogram = <L extends string = string>(name: string, help: string, buckets: readonly number[], labelNames: readonly L[] = []) =>
  new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry] });

/** Every NExtLong metric, typed by its label names. */
export const metrics = {
  documentsRead: counter<'stage'>('nextlong_documents_read_total', 'Documents read from input, by pipeline stage.', ['stage']),
  documentsRejected: counter<'stage' | 'reason'>(
    'nextlong_documents_rejected_total',
    'Documents rejected (written to rejects), by stage and reason.',
    ['stage', 'reason'],
  ),
  chunksEmbedded: counter('nextlong_chunks_embedded_total', 'Chunks embedded.'),
  embedBatchSeconds: histogram('nextlong_embed_batch_seconds', 'Time to embed one batch of chunks, in seconds.', LATENCY_BUCKETS_SECONDS),
  vectorUpsertSeconds: histogram(
    'nextlong_vector_upsert_seconds',
    'Time of one vector index upsert call, in seconds.',
    LATENCY_BUCKETS_SECONDS,
  ),
  vectorSearchSeconds: histogram(
    'nextlong_vector_search_seconds',
    'Time of one vector index search call, in seconds.',
    LATENCY_BUCKETS_SECONDS,
  ),
  uploadSeconds: histogram(
    'nextlong_upload_seconds',
    'Time of one object store write (output part or index segment), in seconds.',
    LATENCY_BUCKETS_SECONDS,
  ),
  sequencesWritten: counter('nextlong_sequences_written_total', 'Synthesized long-context sequences written to output.'),
  sequencesDiscarded: counter<'reason'>('nextlong_sequences_discarded_total', 'Sequences discarded before output, by reason.', ['reason']),
  outputTokens: counter('nextlong_output_tokens_total', 'Tokens in written output sequences.'),
  negativeScore: histogram(
    'nextlong_negative_score',
    'Cosine similarity of each selected hard negative to its query chunk.',
    COSINE_BUCKETS,
  ),
  shards: gauge<'stage' | 'state'>('nextlong_shards', 'Shards by stage and state (pending, active, done, failed).', ['stage', 'state']),
  shardSeconds: histogram<'stage'>('nextlong_shard_seconds', 'Time to process one shard, by stage, in seconds.', SHARD_BUCKETS_SECONDS, [
    'stage',
  ]),
  shardRetries: counter<'stage'>('nextlong_shard_retries_total', 'Shard attempts retried after a retryable failure, by stage.', ['stage']),
  jobsStalled: counter<'stage'>('nextlong_jobs_stalled_total', 'Queue jobs detected as stalled (worker lost its lock), by stage.', [
    'stage',
  ]),
  queueJobs: gauge<'queue' | 'state'>('nextlong_queue_jobs', 'Jobs in each queue by state (waiting, active, completed, failed, delayed).', [
    'queue',
    'state',
  ]),
  retries: counter<'target' | 'reason'>(
    'nextlong_retries_total',
    'Retries of remote calls and shards, by target (s3, qdrant, redis, input, shard) and reason.',
    ['target', 'reason'],
  ),
  workers: gauge<'stage'>('nextlong_workers', 'Fleet workers connected to the queue of each stage, as seen by the coordinator.', ['stage']),
  shardsOverdue: gauge<'stage'>(
    'nextlong_shards_overdue',
    'Shards in progress far longer than the stage usually takes (watchdog), by stage.',
    ['stage'],
  ),
  runInfo: gauge<'run_id'>('nextlong_run_info', 'Always 1; the run_id label names the run this process works on.', ['run_id']),
};

export type Metrics = typeof metrics;

// every retry reported through @nextlong/core is counted, whichever adapter made it
onRetry((e) => metrics.retries.inc({ target: e.target, reason: e.reason }));

/** The contract names of `metrics` (DESIGN §9), in declaration order. */
export const METRIC_NAMES: readonly string[] = Object.values(metrics).map((m) => (m as unknown as { name: string }).name);

/** Observe the duration of `fn` in seconds on `h`, whether it resolves or throws. */
export async function timeAsync<T, L extends string = string>(h: Histogram<L>, fn: () => Promise<T>, labels?: LabelValues<L>): Promise<T> {
  const end = labels === undefined ? h.startTimer() : h.startTimer(labels);
  try {
    return await fn();
  } finally {
    end();
  }
}

/** Set `nextlong_run_info{run_id} 1`, dropping any run id set before. */
export function setRunInfo(runId: string): void {
  metrics.runInfo.reset();
  metrics.runInfo.set({ run_id: runId }, 1);
}

/** Set `nextlong_shards{stage,state}` for every state; states missing from `counts` are set to 0. */
export function setShardCounts(stage: string, counts: Partial<Record<ShardState, number>>): void {
  for (const state of SHARD_STATES) metrics.shards.set({ stage, state }, counts[state] ?? 0);
}

/** Set `nextlong_queue_jobs{queue,state}` for every state; states missing from `counts` are set to 0. */
export function setQueueCounts(queue: string, counts: Partial<Record<QueueState, number>>): void {
  for (const state of QUEUE_STATES) metrics.queueJobs.set({ queue, state }, counts[state] ?? 0);
}

/**
 * Creates a process's labelled series at zero before its first shard, so that rate() and
 * increase() see the first increment of a short stage instead of a series that starts late.
 */
export function initStageMetrics(stages: string[]): void {
  for (const stage of stages) {
    metrics.documentsRead.inc({ stage }, 0);
    metrics.shardRetries.inc({ stage }, 0);
    metrics.jobsStalled.inc({ stage }, 0);
    metrics.shardSeconds.zero({ stage });
  }
  metrics.sequencesDiscarded.inc({ reason: 'too_short' }, 0);
}
