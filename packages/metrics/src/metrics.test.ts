import { Counter, Histogram } from 'prom-client';
import {
  COSINE_BUCKETS,
  DROPPED_DEFAULT_METRICS,
  METRIC_NAMES,
  metrics,
  QUEUE_STATES,
  registry,
  setQueueCounts,
  setRunInfo,
  setShardCounts,
  SHARD_STATES,
  timeAsync,
} from './index.js';
import { find, parseExposition } from './test-support.js';

/** DESIGN §9 plus the fleet metrics: name → [type, label names]. Changing this table breaks dashboards. */
const CONTRACT: Record<string, [string, string[]]> = {
  nextlong_documents_read_total: ['counter', ['stage']],
  nextlong_documents_rejected_total: ['counter', ['stage', 'reason']],
  nextlong_chunks_embedded_total: ['counter', []],
  nextlong_embed_batch_seconds: ['histogram', []],
  nextlong_vector_upsert_seconds: ['histogram', []],
  nextlong_vector_search_seconds: ['histogram', []],
  nextlong_upload_seconds: ['histogram', []],
  nextlong_sequences_written_total: ['counter', []],
  nextlong_sequences_discarded_total: ['counter', ['reason']],
  nextlong_output_tokens_total: ['counter', []],
  nextlong_negative_score: ['histogram', []],
  nextlong_shards: ['gauge', ['stage', 'state']],
  nextlong_shard_seconds: ['histogram', ['stage']],
  nextlong_shard_retries_total: ['counter', ['stage']],
  nextlong_jobs_stalled_total: ['counter', ['stage']],
  nextlong_queue_jobs: ['gauge', ['queue', 'state']],
  nextlong_retries_total: ['counter', ['target', 'reason']],
  nextlong_workers: ['gauge', ['stage']],
  nextlong_shards_overdue: ['gauge', ['stage']],
  nextlong_run_info: ['gauge', ['run_id']],
};

describe('metric definitions', () => {
  beforeEach(() => registry.resetMetrics());

  it('defines exactly the contract names, types and label sets', async () => {
    expect([...METRIC_NAMES].sort()).toEqual(Object.keys(CONTRACT).sort());
    const json = await registry.getMetricsAsJSON();
    for (const [name, [type, labels]] of Object.entries(CONTRACT)) {
      const m = registry.getSingleMetric(name) as unknown as { labelNames: string[] } | undefined;
      expect(m).toBeDefined();
      expect([...m!.labelNames].sort()).toEqual([...labels].sort());
      expect(json.find((j) => j.name === name)?.type).toBe(type);
    }
  });

  it('uses only nextlong_-prefixed names, including the default process metrics', () => {
    const names = registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name);
    for (const n of names) expect(n).toMatch(/^nextlong_[a-z0-9_]+$/);
    expect(names).toContain('nextlong_nodejs_eventloop_lag_seconds');
    expect(names).toContain('nextlong_process_cpu_seconds_total');
    expect(names).toContain('nextlong_process_resident_memory_bytes');
    expect(names).toContain('nextlong_nodejs_active_handles');
    // gauges named *_total break the Prometheus naming rules; they are dropped (sum of the {type} gauge).
    expect(DROPPED_DEFAULT_METRICS).toEqual([
      'nextlong_nodejs_active_handles_total',
      'nextlong_nodejs_active_requests_total',
      'nextlong_nodejs_active_resources_total',
    ]);
    for (const n of DROPPED_DEFAULT_METRICS) expect(names).not.toContain(n);
    for (const n of names) if (n.endsWith('_total')) expect(registry.getSingleMetric(n)).toBeInstanceOf(Counter);
  });

  it('records event-loop lag in the exposition', async () => {
    const exp = parseExposition(await registry.metrics());
    expect(exp.types.get('nextlong_nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(find(exp, 'nextlong_nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  it('negative_score buckets cover cosine -1..1, with 0.05 steps over 0..1', () => {
    expect(COSINE_BUCKETS[0]).toBe(-1);
    expect(COSINE_BUCKETS[COSINE_BUCKETS.length - 1]).toBe(1);
    for (let i = 0; i <= 20; i++) expect(COSINE_BUCKETS).toContain(i / 20);
    expect([...COSINE_BUCKETS]).toEqual([...COSINE_BUCKETS].sort((a, b) => a - b));
    expect(new Set(COSINE_BUCKETS).size).toBe(COSINE_BUCKETS.length);
  });

  it('latency histograms span 1 ms .. 60 s', async () => {
    for (const h of [metrics.embedBatchSeconds, metrics.vectorUpsertSeconds, metrics.vectorSearchSeconds, metrics.uploadSeconds]) {
      h.observe(0.5); // an unlabeled histogram has no buckets after reset until observed
      const les = (await h.get()).values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => v.labels.le);
      expect(les[0]).toBe(0.001);
      expect(les).toContain(60);
      expect(les[les.length - 1]).toBe('+Inf');
    }
  });
});

describe('helpers', () => {
  beforeEach(() => registry.resetMetrics());

  const count = async (h: Histogram<string>, labels: Record<string, string> = {}) =>
    (await h.get()).values.find((v) => v.metricName?.endsWith('_count') && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      ?.value ?? 0;

  it('timeAsync observes the duration and returns the value', async () => {
    const v = await timeAsync(metrics.embedBatchSeconds, async () => {
      await new Promise((r) => setTimeout(r, 20));
      return 42;
    });
    expect(v).toBe(42);
    expect(await count(metrics.embedBatchSeconds)).toBe(1);
    const sum = (await metrics.embedBatchSeconds.get()).values.find((x) => x.metricName?.endsWith('_sum'))!.value;
    expect(sum).toBeGreaterThanOrEqual(0.015);
    expect(sum).toBeLessThan(5);
  });

  it('timeAsync observes on rejection too, and rethrows', async () => {
    await expect(timeAsync(metrics.uploadSeconds, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await count(metrics.uploadSeconds)).toBe(1);
  });

  it('timeAsync applies labels', async () => {
    await timeAsync(metrics.shardSeconds, async () => undefined, { stage: 'embed' });
    expect(await count(metrics.shardSeconds, { stage: 'embed' })).toBe(1);
  });

  it('setRunInfo keeps exactly one run_id at 1', async () => {
    setRunInfo('run-a');
    setRunInfo('run-b');
    const values = (await metrics.runInfo.get()).values;
    expect(values).toEqual([{ value: 1, labels: { run_id: 'run-b' } }]);
  });

  it('setShardCounts and setQueueCounts set every state, missing ones to 0', async () => {
    setShardCounts('embed', { pending: 3, active: 1 });
    setQueueCounts('nextlong-embed', { waiting: 5, failed: 2 });
    const exp = parseExposition(await registry.metrics());
    const shards = find(exp, 'nextlong_shards', { stage: 'embed' });
    expect(Object.fromEntries(shards.map((s) => [s.labels.state, s.value]))).toEqual({ pending: 3, active: 1, done: 0, failed: 0 });
    expect(shards.map((s) => s.labels.state).sort()).toEqual([...SHARD_STATES].sort());
    const q = find(exp, 'nextlong_queue_jobs', { queue: 'nextlong-embed' });
    expect(Object.fromEntries(q.map((s) => [s.labels.state, s.value]))).toEqual({
      waiting: 5,
      active: 0,
      completed: 0,
      failed: 2,
      delayed: 0,
    });
    expect(q.map((s) => s.labels.state).sort()).toEqual([...QUEUE_STATES].sort());
  });
});
