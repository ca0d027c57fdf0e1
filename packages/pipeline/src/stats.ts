/** Per-shard statistics; merged by addition into the manifest. */
export interface ShardStats {
  stage: 'embed' | 'index' | 'synth';
  shard: string;
  seconds: number;
  documents_read: number;
  documents_rejected: number;
  rejects_by_reason: Record<string, number>;
  documents_unsampled: number;
  /** `iclm`: input documents placed in a sequence anchored by another document (see finalize's balance). */
  documents_merged: number;
  chunks_indexed: number;
  sequences_written: number;
  sequences_discarded: Record<string, number>;
  output_tokens: number;
  negatives: number;
  negatives_shortfall: number;
  skipped: { self: number; reused: number; duplicate: number; ceiling: number };
  score: ScoreSummary;
  random_score: ScoreSummary;
}

/** Mergeable score summary: count, sum, min, max and a 200-bin histogram over [-1, 1]. */
export interface ScoreSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
  hist: number[];
}

const BINS = 200;

export function emptyScores(): ScoreSummary {
  return { count: 0, sum: 0, min: 1, max: -1, hist: new Array<number>(BINS).fill(0) };
}

export function addScore(s: ScoreSummary, x: number): void {
  s.count++;
  s.sum += x;
  s.min = Math.min(s.min, x);
  s.max = Math.max(s.max, x);
  s.hist[Math.min(BINS - 1, Math.max(0, Math.floor(((x + 1) / 2) * BINS)))]!++;
}

export function emptyStats(stage: ShardStats['stage'], shard: string): ShardStats {
  return {
    stage,
    shard,
    seconds: 0,
    documents_read: 0,
    documents_rejected: 0,
    rejects_by_reason: {},
    documents_unsampled: 0,
    documents_merged: 0,
    chunks_indexed: 0,
    sequences_written: 0,
    sequences_discarded: {},
    output_tokens: 0,
    negatives: 0,
    negatives_shortfall: 0,
    skipped: { self: 0, reused: 0, duplicate: 0, ceiling: 0 },
    score: emptyScores(),
    random_score: emptyScores(),
  };
}

export function addCounts(a: Record<string, number>, b: Record<string, number>): void {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
}

function mergeScores(a: ScoreSummary, b: ScoreSummary): void {
  a.count += b.count;
  a.sum += b.sum;
  a.min = Math.min(a.min, b.min);
  a.max = Math.max(a.max, b.max);
  b.hist.forEach((v, i) => (a.hist[i] = (a.hist[i] ?? 0) + v));
}

export function mergeStats(into: ShardStats, s: ShardStats): void {
  into.seconds += s.seconds;
  into.documents_read += s.documents_read;
  into.documents_rejected += s.documents_rejected;
  addCounts(into.rejects_by_reason, s.rejects_by_reason);
  into.documents_unsampled += s.documents_unsampled;
  into.documents_merged += s.documents_merged ?? 0; // absent in stats written before the field existed
  into.chunks_indexed += s.chunks_indexed;
  into.sequences_written += s.sequences_written;
  addCounts(into.sequences_discarded, s.sequences_discarded);
  into.output_tokens += s.output_tokens;
  into.negatives += s.negatives;
  into.negatives_shortfall += s.negatives_shortfall;
  addCounts(into.skipped, s.skipped);
  mergeScores(into.score, s.score);
  mergeScores(into.random_score, s.random_score);
}

/** Mean, min, max and quantiles from the histogram (bin centres). */
export function summarize(s: ScoreSummary): Record<string, number | null> {
  if (s.count === 0) return { count: 0, mean: null, min: null, max: null, p10: null, p50: null, p90: null };
  const q = (p: number) => {
    let acc = 0;
    for (let i = 0; i < s.hist.length; i++) {
      acc += s.hist[i]!;
      if (acc >= p * s.count) return round((i + 0.5) / (s.hist.length / 2) - 1);
    }
    return round(s.max);
  };
  return { count: s.count, mean: round(s.sum / s.count), min: round(s.min), max: round(s.max), p10: q(0.1), p50: q(0.5), p90: q(0.9) };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
