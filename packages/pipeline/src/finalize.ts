import type { ObjectStore } from '@nextlong/core';
import { mergeMdsIndexes } from '@nextlong/storage';
import { keys, readStats, type RunPlan } from './run-state.js';
import { addCounts, emptyStats, mergeStats, summarize, type ShardStats } from './stats.js';
import { dupKeys, readDuplicatesSummary } from './steps/duplicates.js';

export interface Manifest {
  run_id: string;
  created_at: string;
  finished_at: string;
  config: RunPlan['config'];
  /** The data condition (`--method`); also in every record. */
  method: RunPlan['config']['method'];
  chars_per_token: number;
  /** The shards' counts summed (see ShardStats), and the pool's own reads. */
  counts: Pick<
    ShardStats,
    | 'documents_read'
    | 'documents_rejected'
    | 'documents_unsampled'
    | 'chunks_indexed'
    | 'sequences_written'
    | 'sequences_discarded'
    | 'output_tokens'
  > & {
    /** `iclm`: documents placed in a sequence anchored by another (0 for the other methods). */
    documents_merged?: number;
    pool_documents_read: number;
    pool_documents_rejected: number;
    /** Records rejected as `duplicate_id` (a later occurrence of an id; input and a separate pool). */
    duplicate_ids: number;
  };
  rejects_by_reason: Record<string, number>;
  negatives: { placed: number; shortfall: number; skipped: ShardStats['skipped'] };
  negative_score: Record<string, number | null>;
  /** Cosine of meta-chunks to random pool chunks: the baseline hard negatives must beat. */
  random_score: Record<string, number | null>;
  timings: Record<string, number>;
  parts: { key: string; sequences: number }[];
  /** MDS output (`--format mds|both`): `mds/index.json` over every shard's folder. */
  mds?: { shards: number; samples: number; bytes: number };
  rejects: string[];
}

/** Merges every shard's stats into `<out>/manifest.json` (written last). Counts must balance. */
export async function finalizeRun(store: ObjectStore, plan: RunPlan, timings: Record<string, number>): Promise<Manifest> {
  const synth = emptyStats('synth', '*');
  const parts: Manifest['parts'] = [];
  const rejects: string[] = [];
  for (const s of plan.inputShards) {
    const st = await readStats<ShardStats>(store, 'synth', s.id);
    mergeStats(synth, st);
    if (plan.config.format !== 'mds') parts.push({ key: keys.part(s.id), sequences: st.sequences_written });
    if (st.documents_rejected) rejects.push(keys.rejects(s.id));
  }
  const pool = emptyStats('embed', '*');
  // a separate pool's duplicates are found after its embed stage: counted here, listed as rejects
  const dups = (await readDuplicatesSummary(store))?.shards ?? {};
  for (const s of plan.poolShards) {
    const st = await readStats<ShardStats>(store, 'embed', s.id);
    mergeStats(pool, st);
    if (!plan.poolIsInput && st.documents_rejected) rejects.push(keys.rejects(s.id));
    if (!plan.poolIsInput && dups[s.id]) {
      recordDuplicates(pool, dups[s.id]!);
      rejects.push(dupKeys.shard(s.id));
    }
  }
  const index = await readStats<ShardStats>(store, 'index', 'index');
  const discarded = Object.values(synth.sequences_discarded).reduce((a, b) => a + b, 0);
  // every document anchors a written or discarded sequence, is merged into one (iclm), or was not used
  const accounted = synth.documents_rejected + synth.documents_unsampled + synth.sequences_written + discarded + synth.documents_merged;
  if (accounted !== synth.documents_read) {
    throw new Error(
      `counts do not balance: ${synth.documents_read} read but ${accounted} written, discarded, merged, unsampled or rejected`,
    );
  }
  const manifest: Manifest = {
    run_id: plan.runId,
    created_at: plan.createdAt,
    finished_at: new Date().toISOString(),
    config: plan.config,
    method: plan.config.method ?? 'nextlong',
    chars_per_token: plan.charsPerToken,
    counts: {
      documents_read: synth.documents_read,
      documents_rejected: synth.documents_rejected,
      documents_unsampled: synth.documents_unsampled,
      documents_merged: synth.documents_merged,
      chunks_indexed: index.chunks_indexed,
      sequences_written: synth.sequences_written,
      sequences_discarded: { too_short: 0, ...synth.sequences_discarded },
      output_tokens: synth.output_tokens,
      pool_documents_read: pool.documents_read,
      pool_documents_rejected: plan.poolIsInput ? synth.documents_rejected : pool.documents_rejected,
      duplicate_ids: (synth.rejects_by_reason.duplicate_id ?? 0) + (plan.poolIsInput ? 0 : (pool.rejects_by_reason.duplicate_id ?? 0)),
    },
    rejects_by_reason: plan.poolIsInput ? synth.rejects_by_reason : sumCounts(pool.rejects_by_reason, synth.rejects_by_reason),
    negatives: { placed: synth.negatives, shortfall: synth.negatives_shortfall, skipped: synth.skipped },
    negative_score: summarize(synth.score),
    random_score: summarize(synth.random_score),
    timings: {
      ...timings,
      embed_shard_seconds: round(pool.seconds),
      synth_shard_seconds: round(synth.seconds),
      index_seconds: round(index.seconds),
    },
    parts,
    rejects,
  };
  if (plan.config.format !== 'jsonl') {
    // one top-level index.json over every shard's MDS folder, in plan order
    manifest.mds = await mergeMdsIndexes(
      store,
      keys.mdsRoot,
      plan.inputShards.map((s) => s.id),
    );
  }
  await store.put(keys.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

function recordDuplicates(st: ShardStats, n: number): void {
  st.documents_rejected += n;
  st.rejects_by_reason.duplicate_id = (st.rejects_by_reason.duplicate_id ?? 0) + n;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function sumCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  addCounts(out, b);
  return out;
}
