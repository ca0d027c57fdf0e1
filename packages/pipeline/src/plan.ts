import { ConfigError, measureCharsPerToken, sampleIndices, type ObjectStore, type RunConfig, type Tokenizer } from '@nextlong/core';
import { expandInputs, planFileShards, readShard, type ShardSpec } from '@nextlong/storage';
import { keys, readPlan, runIdOf, type RunPlan } from './run-state.js';

/** Characters sampled from the input to measure E when it is not configured. */
const E_SAMPLE_CHARS = 2_000_000;

/**
 * Plans a run, or loads the plan of the same run from `<out>/run.json` (resume). A folder
 * that holds a different run is a configuration error: outputs are never mixed.
 */
export async function planRun(config: RunConfig, store: ObjectStore, tokenizer: Tokenizer): Promise<RunPlan> {
  const runId = runIdOf(config);
  const existing = await readPlan(store);
  if (existing) {
    if (existing.runId !== runId) {
      throw new ConfigError(`out: ${store.root} holds another run (${existing.runId}) with a different configuration; use a new --out folder`);
    }
    return { ...existing, config: { ...existing.config, concurrency: config.concurrency } };
  }
  const inputShards = await shardsOf(config.input, config.shardDocs, '', 'input');
  const poolIsInput = config.pool.length === 0;
  const poolShards = poolIsInput ? inputShards : await shardsOf(config.pool, config.shardDocs, 'pool-', 'pool');
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

async function shardsOf(inputs: string[], shardDocs: number, prefix: string, what: string): Promise<ShardSpec[]> {
  const files = await expandInputs(inputs, what);
  const shards: ShardSpec[] = [];
  for (const f of files) shards.push(...(await planFileShards(f, shardDocs, prefix)));
  if (shards.length === 0) throw new ConfigError(`${what}: ${noRecords(files)}`);
  return shards;
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
