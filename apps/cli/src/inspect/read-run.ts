import { ConfigError, type ObjectStore } from '@nextlong/core';
import {
  emptyStats,
  isDone,
  keys,
  mergeStats,
  readPlan,
  readStats,
  summarize,
  type Manifest,
  type RunPlan,
  type ShardStats,
} from '@nextlong/pipeline';

/** One input shard's row of the per-shard table. */
export interface ShardRow {
  id: string;
  file: string;
  done: boolean;
  documents_read: number;
  documents_rejected: number;
  documents_unsampled: number;
  sequences_written: number;
  sequences_discarded: number;
  negatives: number;
  output_tokens: number;
  seconds: number;
}

/** What the report says about a run, read from its output location (finished or not). */
export interface RunState {
  plan: RunPlan;
  manifest?: Manifest;
  /** Shard counts per stage: done / total. */
  progress: Record<'embed' | 'index' | 'synth', { done: number; total: number }>;
  shards: ShardRow[];
  /** Merged synth stats of the done shards (score histograms are only here, not in the manifest). */
  synth: ShardStats;
  /** Merged stats of the done embed shards and, once built, the index: the pool's counts before a manifest exists. */
  pool: ShardStats;
  index?: ShardStats;
  /** Sequence part keys of the done synth shards, in plan order. */
  parts: { shard: string; key: string; sequences: number }[];
}

/**
 * Reads run.json, the manifest when there is one, and the stats of every done shard: an
 * unfinished run (no manifest yet) is shown from the shards that are complete.
 */
export async function readRunState(store: ObjectStore): Promise<RunState> {
  const plan = await readPlan(store);
  if (!plan) throw new ConfigError(`out: no run in ${store.root} (run.json not found)`);
  const manifest = (await store.exists(keys.manifest))
    ? (JSON.parse(Buffer.from(await store.get(keys.manifest)).toString('utf8')) as Manifest)
    : undefined;
  const synth = emptyStats('synth', '*');
  const shards: ShardRow[] = [];
  const parts: RunState['parts'] = [];
  let synthDone = 0;
  for (const s of plan.inputShards) {
    const done = await isDone(store, 'synth', s.id);
    const row: ShardRow = {
      id: s.id,
      file: s.file,
      done,
      documents_read: 0,
      documents_rejected: 0,
      documents_unsampled: 0,
      sequences_written: 0,
      sequences_discarded: 0,
      negatives: 0,
      output_tokens: 0,
      seconds: 0,
    };
    if (done) {
      synthDone++;
      const st = await readStats<ShardStats>(store, 'synth', s.id);
      mergeStats(synth, st);
      Object.assign(row, {
        documents_read: st.documents_read,
        documents_rejected: st.documents_rejected,
        documents_unsampled: st.documents_unsampled,
        sequences_written: st.sequences_written,
        sequences_discarded: Object.values(st.sequences_discarded).reduce((a, b) => a + b, 0),
        negatives: st.negatives,
        output_tokens: st.output_tokens,
        seconds: st.seconds,
      });
      if (plan.config.format !== 'mds' && st.sequences_written > 0)
        parts.push({ shard: s.id, key: keys.part(s.id), sequences: st.sequences_written });
    }
    shards.push(row);
  }
  let embedDone = 0;
  const pool = emptyStats('embed', '*');
  for (const s of plan.poolShards) {
    if (!(await isDone(store, 'embed', s.id))) continue;
    embedDone++;
    mergeStats(pool, await readStats<ShardStats>(store, 'embed', s.id));
  }
  const indexDone = await isDone(store, 'index', 'index');
  const index = indexDone ? await readStats<ShardStats>(store, 'index', 'index') : undefined;
  const progress = {
    embed: { done: embedDone, total: plan.poolShards.length },
    index: { done: indexDone ? 1 : 0, total: 1 },
    synth: { done: synthDone, total: plan.inputShards.length },
  };
  return { plan, manifest, progress, shards, synth, pool, index, parts };
}

/** Counts as the manifest has them, or as far as the done shards go for an unfinished run. */
export function countsOf(state: RunState): Manifest['counts'] {
  if (state.manifest) return state.manifest.counts;
  const s = state.synth;
  return {
    documents_read: s.documents_read,
    documents_rejected: s.documents_rejected,
    documents_unsampled: s.documents_unsampled,
    documents_merged: s.documents_merged,
    // the embed and index steps finish before synth starts: their counts are known before the manifest
    chunks_indexed: state.index?.chunks_indexed ?? 0,
    sequences_written: s.sequences_written,
    sequences_discarded: { too_short: 0, ...s.sequences_discarded },
    output_tokens: s.output_tokens,
    pool_documents_read: state.pool.documents_read,
    pool_documents_rejected: state.pool.documents_rejected,
    duplicate_ids: s.rejects_by_reason.duplicate_id ?? 0,
  };
}

/** Score summaries: the manifest's when finished, else computed from the done shards. */
export function scoresOf(state: RunState): { negative: Record<string, number | null>; random: Record<string, number | null> } {
  if (state.manifest) return { negative: state.manifest.negative_score, random: state.manifest.random_score };
  return { negative: summarize(state.synth.score), random: summarize(state.synth.random_score) };
}
