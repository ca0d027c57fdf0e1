import type { StreamingObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { countsOf, readRunState, scoresOf, type ShardRow } from './read-run.js';
import { listKeys, rejectExamples } from './records.js';
import { pickSequences, type SampleInfo, type SampleRequest } from './sample.js';
import { viewSequences, type ViewSequence } from './view.js';

/** Everything the page shows, embedded in it as one JSON block. */
export interface ReportData {
  generated_at: string;
  source: string;
  finished: boolean;
  progress: Record<string, { done: number; total: number }>;
  run: {
    run_id: string;
    created_at: string;
    finished_at?: string;
    chars_per_token: number;
    method?: string;
    config: Record<string, unknown>;
  };
  counts: Record<string, unknown>;
  rejects_by_reason: Record<string, number>;
  reject_examples: { reason: string; file: string; line: number; shard: string; message: string }[];
  timings: Record<string, number>;
  shards: ShardRow[];
  negatives: { placed: number; shortfall: number; skipped: Record<string, number> };
  scores: {
    negative: Record<string, number | null>;
    random: Record<string, number | null>;
    negative_hist: number[];
    random_hist: number[];
  };
  k_hist: Record<number, number>;
  sample: SampleInfo;
  sequences: ViewSequence[];
}

export interface ReportOptions {
  sample: SampleRequest;
  /** Most bytes of sequence data (texts and segments, as embedded JSON) the report holds. */
  budgetBytes: number;
}

/** Reads a run's output location and gathers the report's data. */
export async function buildReportData(store: StreamingObjectStore, o: ReportOptions): Promise<ReportData> {
  const state = await readRunState(store);
  const { plan, manifest } = state;
  const rejectFiles = manifest
    ? manifest.rejects
    : [...(await listKeys(store, 'rejects/')), ...(await listKeys(store, 'duplicates/')).filter((k) => !k.endsWith('summary.json'))];
  const { picked, kHist, scanned, missing } = await pickSequences(store, state.parts, o.sample);
  let tokenizer;
  try {
    tokenizer = loadTokenizer(plan.config.tokenizer);
  } catch {
    tokenizer = undefined; // a tokenizer.json not present here: ranges by characters only
  }
  const sequences = viewSequences(picked, o.budgetBytes, tokenizer);
  const config = plan.config as unknown as Record<string, unknown>;
  return {
    generated_at: new Date().toISOString(),
    source: store.root,
    finished: Boolean(manifest),
    progress: state.progress,
    run: {
      run_id: plan.runId,
      created_at: plan.createdAt,
      finished_at: manifest?.finished_at,
      chars_per_token: plan.charsPerToken,
      method: typeof config.method === 'string' ? config.method : undefined,
      config,
    },
    counts: countsOf(state),
    rejects_by_reason: manifest?.rejects_by_reason ?? state.synth.rejects_by_reason,
    reject_examples: await rejectExamples(store, rejectFiles),
    timings: manifest?.timings ?? { synth_shard_seconds: state.synth.seconds },
    shards: state.shards,
    negatives: manifest?.negatives ?? {
      placed: state.synth.negatives,
      shortfall: state.synth.negatives_shortfall,
      skipped: state.synth.skipped,
    },
    scores: { ...scoresOf(state), negative_hist: state.synth.score.hist, random_hist: state.synth.random_score.hist },
    k_hist: kHist,
    sample: {
      total_sequences: state.parts.reduce((a, p) => a + p.sequences, 0),
      requested: 'count' in o.sample ? `${o.sample.count} by a sample seeded ${o.sample.seed}` : `ids ${o.sample.ids.join(', ')}`,
      picked: picked.length,
      shown: sequences.length,
      with_text: sequences.filter((s) => s.text !== undefined).length,
      budget_bytes: o.budgetBytes,
      missing_ids: missing,
      scanned,
    },
    sequences,
  };
}
