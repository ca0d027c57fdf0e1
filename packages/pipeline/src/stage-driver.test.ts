import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { backoffMs, createLogger, onRetry, parseRunConfig, PermanentError, RetryableError, setLogger, type RetryEvent, type ShardRetryPolicy } from '@nextlong/core';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { fixturePath, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import type { ShardRunner } from './child-lane.js';
import { planRun } from './plan.js';
import { keys, type RunPlan, type Stage } from './run-state.js';
import { driveRun, runOnLanes, stagesOf, type StageExecutor, type StageWork } from './stage-driver.js';
import { emptyStats, type ShardStats } from './stats.js';

// A fake transport behind the executor port: it writes real stats and done markers (or fails as
// scripted), so the driver's retry policy, barrier and finalize run as they do for real.
class ScriptedRunner implements ShardRunner {
  readonly calls: string[] = [];
  constructor(
    private readonly store: StreamingObjectStore,
    /** Per `stage/shard`: the errors of its first attempts, in order. */
    private readonly failures: Map<string, Error[]>,
    private readonly skipMarker = new Set<string>(),
  ) {}
  async run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats> {
    const key = `${stage}/${shardId}`;
    this.calls.push(key);
    onProgress(1);
    const err = this.failures.get(key)?.shift();
    if (err) throw err;
    const stats = emptyStats(stage, shardId);
    await this.store.put(keys.stats(stage, shardId), JSON.stringify(stats));
    if (!this.skipMarker.has(key)) await this.store.put(keys.done(stage, shardId), new Date().toISOString());
    return stats;
  }
  async close(): Promise<void> {}
}

const POLICY: ShardRetryPolicy = { attempts: 3, baseMs: 4, maxMs: 50, jitter: 0 };

class FakeLanes implements StageExecutor {
  readonly stages: Stage[] = [];
  progress = 0;
  constructor(private readonly runners: ShardRunner[]) {}
  runStage(work: StageWork): Promise<void> {
    this.stages.push(work.stage);
    return runOnLanes(this.runners, work, { policy: POLICY, onProgress: (n) => (this.progress += n) });
  }
}

describe('the stage driver with a fake executor', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let events: RetryEvent[];
  let records: Record<string, unknown>[];
  let restore: () => void;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-driver-')));
  afterAll(() => cleanup());
  beforeEach(() => {
    events = [];
    records = [];
    // the process logger, captured: retry lines are logged records with the shard's fields
    const prev = setLogger(createLogger({ format: 'json', level: 'warn', out: { write: (s: string) => records.push(JSON.parse(s)) } }));
    const off = onRetry((e) => events.push(e));
    restore = () => (prev && setLogger(prev), off());
  });
  afterEach(() => restore());

  async function planned(name: string): Promise<{ plan: RunPlan; store: StreamingObjectStore }> {
    const config = parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out: path.join(dir, name), targetTokens: 4096, shardDocs: 20, concurrency: 1 });
    const store = openObjectStore(config.out);
    const plan = await planRun(config, store, loadTokenizer(config.tokenizer), { quiet: true });
    expect(plan.inputShards.length).toBeGreaterThanOrEqual(3);
    return { plan, store };
  }
  const markers = async (out: string, stage: Stage) => (await readdir(path.join(out, 'done', stage)).catch(() => [])).sort();
  const drive = (plan: RunPlan, store: StreamingObjectStore, ex: StageExecutor) => driveRun(plan, store, ex, { timings: {}, startedAt: performance.now() });

  test('retryable and unknown errors are retried with the policy backoff; the run then finalizes', async () => {
    const { plan, store } = await planned('retried');
    const [a, b] = plan.inputShards.map((s) => s.id);
    const failures = new Map<string, Error[]>([
      [`synth/${a}`, [new RetryableError('503 from S3'), new RetryableError('503 again')]],
      [`embed/${b}`, [new Error('shard process exited with signal SIGKILL')]],
    ]);
    const runner = new ScriptedRunner(store, failures);
    const ex = new FakeLanes([runner, runner]);
    const manifest = await drive(plan, store, ex);
    expect(ex.stages).toEqual(['embed', 'index', 'synth']);
    expect(runner.calls.filter((c) => c === `synth/${a}`)).toHaveLength(3);
    expect(runner.calls.filter((c) => c === `embed/${b}`)).toHaveLength(2);
    expect(events.map((e) => [e.target, e.reason, e.attempt, e.delayMs]).sort()).toEqual(
      [
        ['shard', 'Error', 1, backoffMs(1, POLICY)],
        ['shard', 'RetryableError', 1, backoffMs(1, POLICY)],
        ['shard', 'RetryableError', 2, backoffMs(2, POLICY)],
      ].sort(),
    );
    expect(records.filter((r) => r.shard === a).map((r) => [r.run, r.stage, r.msg])).toEqual([
      [plan.runId, 'synth', expect.stringMatching(/^retry shard \(RetryableError\) attempt 1, next in [\d.]+ s: synth shard \S+: 503 from S3$/)],
      [plan.runId, 'synth', expect.stringMatching(/^retry shard \(RetryableError\) attempt 2, /)],
    ]);
    // a failed attempt's progress is taken back: one unit per shard in the end
    expect(ex.progress).toBe(plan.poolShards.length + 1 + plan.inputShards.length);
    expect(manifest.run_id).toBe(plan.runId);
    expect(await store.exists(keys.manifest)).toBe(true);
  });

  test('a permanent error fails its shard at once; the stage finishes its other shards, then fails; later stages never start', async () => {
    const { plan, store } = await planned('permanent');
    const bad = plan.poolShards[1]!.id;
    const runner = new ScriptedRunner(store, new Map([[`embed/${bad}`, [new PermanentError('20 of 20 records are bad')]]]));
    const ex = new FakeLanes([runner]);
    const err = await drive(plan, store, ex).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toBe(`1 embed shard(s) failed; completed shards are kept, re-run to resume:\n  embed shard ${bad}: 20 of 20 records are bad`);
    expect(runner.calls.filter((c) => c === `embed/${bad}`)).toHaveLength(1);
    expect(events).toEqual([]);
    expect(await markers(plan.config.out, 'embed')).toEqual(plan.poolShards.map((s) => s.id).filter((id) => id !== bad).sort());
    expect(ex.stages).toEqual(['embed']);
    expect(await store.exists(keys.manifest)).toBe(false);
  });

  test('a shard still failing after the attempt limit fails the stage with its last error', async () => {
    const { plan, store } = await planned('exhausted');
    const id = plan.poolShards[0]!.id;
    const runner = new ScriptedRunner(store, new Map([[`embed/${id}`, Array.from({ length: 5 }, (_, i) => new RetryableError(`timeout ${i + 1}`))]]));
    await expect(drive(plan, store, new FakeLanes([runner]))).rejects.toThrow(`embed shard ${id}: timeout ${POLICY.attempts}`);
    expect(runner.calls.filter((c) => c === `embed/${id}`)).toHaveLength(POLICY.attempts);
    expect(events.map((e) => e.attempt)).toEqual([1, 2]);
  });

  test('the barrier trusts done markers, not the executor: a shard reported done without its marker stops the run', async () => {
    const { plan, store } = await planned('barrier');
    const id = plan.poolShards[0]!.id;
    const runner = new ScriptedRunner(store, new Map(), new Set([`embed/${id}`]));
    await expect(drive(plan, store, new FakeLanes([runner]))).rejects.toThrow(
      new PermanentError(`embed: 1 shard(s) have no done marker (done/embed/${id}…) after the stage ran; re-run to resume`),
    );
    expect(await markers(plan.config.out, 'index')).toEqual([]);
  });

  test('stages are embed, index, synth with the plan shards; synth work counts sampled records', async () => {
    const { plan } = await planned('stages');
    const work = stagesOf({ ...plan, sample: { [plan.inputShards[0]!.id]: [0, 3] } });
    expect(work.map((w) => [w.stage, w.unit, w.shards.length])).toEqual([
      ['embed', 'docs', plan.poolShards.length],
      ['index', 'segments', 1],
      ['synth', 'docs', plan.inputShards.length],
    ]);
    expect(work[2]!.shards[0]!.units).toBe(2);
    expect(work[0]!.shards.map((s) => s.units)).toEqual(plan.poolShards.map((s) => s.records));
  });
});
