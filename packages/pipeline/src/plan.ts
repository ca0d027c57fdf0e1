import { ConfigError, measureCharsPerToken, sampleIndices, type ObjectStore, type RunConfig, type Tokenizer } from '@nextlong/core';
import { availableParallelism } from 'node:os';
import { expandInputs, planFileShards, PlanThreads, readShard, type PlanOptions, type ShardSpec } from '@nextlong/storage';
import { Progress } from './progress.js';
import { keys, readPlan, runIdOf, runtimeOptions, type RunPlan } from './run-state.js';

/** Characters sampled from the input to measure E when it is not configured. */
const E_SAMPLE_CHARS = 2_000_000;
/** Files scanned at once (their frames share the plan threads), and the most plan threads. */
const FILES_AT_ONCE = 4;
const MAX_PLAN_THREADS = 8;
/** A scan that takes longer than this shows a progress line. */
const PROGRESS_AFTER_MS = 2000;

/**
 * Plans a run, or loads the plan of the same run from `<out>/run.json` (resume). A folder
 * that holds a different run is a configuration error: outputs are never mixed.
 */
export async function planRun(config: RunConfig, store: ObjectStore, tokenizer: Tokenizer, o: { quiet?: boolean } = {}): Promise<RunPlan> {
  const runId = runIdOf(config);
  const existing = await readPlan(store);
  if (existing) {
    if (existing.runId !== runId) {
      throw new ConfigError(`out: ${store.root} holds another run (${existing.runId}) with a different configuration; use a new --out folder`);
    }
    return { ...existing, config: { ...existing.config, ...runtimeOptions(config) } };
  }
  const scan = new PlanScan(o.quiet ?? false);
  let inputShards: ShardSpec[];
  let poolShards: ShardSpec[];
  const poolIsInput = config.pool.length === 0;
  try {
    inputShards = await shardsOf(config.input, config.shardDocs, '', 'input', scan);
    poolShards = poolIsInput ? inputShards : await shardsOf(config.pool, config.shardDocs, 'pool-', 'pool', scan);
  } finally {
    await scan.close();
  }
  const plan: RunPlan = {
    runId,
    createdAt: new Date().toISOString(),
    config,
    charsPerToken: config.charsPerToken ?? (await measureE(inputShards, config, tokenizer)),
    poolIsInput,
    poolShards,
    inputShards,
  };
  if (config.sequences !== undefined) plan.sample = sampleByShard(inputShards, config.sequences, config.seed);
  await store.put(keys.plan, JSON.stringify(plan, null, 2));
  return plan;
}

async function shardsOf(inputs: string[], shardDocs: number, prefix: string, what: string, scan: PlanScan): Promise<ShardSpec[]> {
  const files = await expandInputs(inputs, what);
  scan.addFiles(files.length);
  // a few files at once, results in file order: the plan does not depend on which ends first
  const perFile: ShardSpec[][] = new Array(files.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    for (let i = next++; i < files.length && !failed; i = next++) {
      try {
        perFile[i] = await planFileShards(files[i]!, shardDocs, prefix, scan.options);
      } catch (err) {
        failed = true; // the other lanes take no new file
        throw err;
      }
      scan.fileDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, files.length) }, lane));
  const shards = perFile.flat();
  if (shards.length === 0) throw new ConfigError(`${what}: ${noRecords(files)}`);
  return shards;
}

/** Plan threads for large `.zst` files, and a progress line (files, MB read) once a scan takes a while. */
class PlanScan {
  private readonly threads = new PlanThreads(Math.min(availableParallelism(), MAX_PLAN_THREADS));
  private readonly started = performance.now();
  private bar?: Progress;
  private files = 0;
  private done = 0;
  private bytes = 0;
  readonly options: PlanOptions = { threads: this.threads, onBytes: (n) => this.tick((this.bytes += n)) };

  constructor(private readonly quiet: boolean) {}

  /** Starts counting the files of the input (or the pool). */
  addFiles(n: number): void {
    this.bar?.finish();
    this.bar = undefined;
    this.files = n;
    this.done = 0;
  }

  fileDone(): void {
    this.done++;
    this.tick(this.bytes);
  }

  async close(): Promise<void> {
    this.bar?.finish();
    await this.threads.close();
  }

  private tick(bytes: number): void {
    if (!this.bar && !this.quiet && performance.now() - this.started > PROGRESS_AFTER_MS) this.bar = new Progress('plan', this.files, 'files');
    this.bar?.set(this.done, `${(bytes / 1e6).toFixed(0)} MB read`);
  }
}

/** Names the files (a few of many) that hold no records: an empty or blank-only input. */
function noRecords(files: string[]): string {
  if (files.length === 1) return `${files[0]} holds no records`;
  const named = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
  return `none of the ${files.length} corpus files holds a record (${named})`;
}

/** E over the first records of the input, in plan order (deterministic). */
async function measureE(shards: ShardSpec[], config: RunConfig, tokenizer: Tokenizer): Promise<number> {
  const texts: string[] = [];
  let chars = 0;
  outer: for (const s of shards) {
    for await (const item of readShard(s, config)) {
      if (!('doc' in item)) continue;
      texts.push(item.doc.text);
      chars += item.doc.text.length;
      if (chars >= E_SAMPLE_CHARS) break outer;
    }
  }
  if (texts.length === 0) throw new ConfigError('input: no valid record to measure characters per token from');
  return measureCharsPerToken(tokenizer, texts);
}

/** The seeded sample of `n` records over all input shards, split per shard. */
function sampleByShard(shards: ShardSpec[], n: number, seed: number): Record<string, number[]> {
  const total = shards.reduce((a, s) => a + s.records, 0);
  const picked = sampleIndices(total, n, seed);
  const out: Record<string, number[]> = {};
  let base = 0;
  let j = 0;
  for (const s of shards) {
    const mine: number[] = [];
    while (j < picked.length && picked[j]! < base + s.records) mine.push(picked[j++]! - base);
    out[s.id] = mine;
    base += s.records;
  }
  return out;
}
