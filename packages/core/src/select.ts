import type { Hit } from './ports.js';
import type { Rng } from './rng.js';

/** What selection must avoid for one sequence (DESIGN §3.3). */
export interface SelectionContext {
  metaDocId: string;
  /** Normalized-text hashes of every meta-chunk of the sequence. */
  metaHashes: Set<number>;
  /** Keys already placed in this sequence. */
  used: Set<number>;
  /** Optional false-negative guard: skip candidates with score above it. */
  ceiling?: number;
}

export interface SkipCounts {
  self: number;
  reused: number;
  duplicate: number;
  ceiling: number;
}

export function emptySkips(): SkipCounts {
  return { self: 0, reused: 0, duplicate: 0, ceiling: 0 };
}

/** The candidates of a ranked list that pass every rule, in rank order. */
export function* eligible(hits: Hit[], ctx: SelectionContext, skips: SkipCounts): Generator<Hit> {
  for (const h of hits) {
    if (h.docId === ctx.metaDocId) skips.self++;
    else if (ctx.used.has(h.key)) skips.reused++;
    else if (ctx.metaHashes.has(h.hash)) skips.duplicate++;
    else if (ctx.ceiling !== undefined && h.score > ctx.ceiling) skips.ceiling++;
    else yield h;
  }
}

export interface TopK {
  taken: Hit[];
  skips: SkipCounts;
}

/** The paper's rule: the top `k` eligible candidates. Fewer only if the list runs out. The caller marks them used. */
export function selectTopK(hits: Hit[], k: number, ctx: SelectionContext): TopK {
  const skips = emptySkips();
  const taken: Hit[] = [];
  if (k <= 0) return { taken, skips };
  for (const h of eligible(hits, ctx, skips)) {
    taken.push(h);
    if (taken.length === k) break;
  }
  return { taken, skips };
}

/** Ranked order: descending score, ties by ascending key (deterministic). */
export function compareHits(a: Hit, b: Hit): number {
  return b.score - a.score || a.key - b.key;
}

/** How negatives are chosen among the candidates (ours, after the paper's Table 5 ablation). */
export type SelectionStrategy = 'topk' | 'band' | 'random-candidates' | 'random-pool';

export interface SelectionOptions {
  selection: SelectionStrategy;
  /** Candidates retrieved per meta-chunk for `band` and `random-candidates` (the paper: 512). */
  candidates: number;
  /** `band`: first and last rank (1-based, inclusive) among the eligible candidates. */
  band: [number, number];
}

export const TOPK: SelectionOptions = { selection: 'topk', candidates: 512, band: [256, 512] };

/** `"256-512"` → [256, 512]; a bad band names what is allowed. */
export function parseBand(band: string, candidates: number): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(band);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!(lo >= 1 && hi >= lo && hi <= candidates))
    throw new Error(`band: expected ranks FIRST-LAST with 1 ≤ FIRST ≤ LAST ≤ candidates (${candidates}), got ${JSON.stringify(band)}`);
  return [lo, hi];
}

/** Eligible candidates a strategy needs from the ranked list (the rest are never looked at). */
export function candidatesNeeded(o: SelectionOptions, k: number): number {
  if (o.selection === 'band') return o.band[1];
  if (o.selection === 'random-candidates') return o.candidates;
  return k;
}

/**
 * The order in which `band` and `random-candidates` take the eligible candidates `ranked`
 * (ranks 1.. after every exclusion rule): the band's ranks in rank order, or the first
 * `candidates` in a seeded random order. A taker stops at its budget; see byRank.
 */
export function strategyOrder(ranked: Hit[], o: SelectionOptions, rng: Rng): Hit[] {
  if (o.selection === 'band') return ranked.slice(o.band[0] - 1, o.band[1]);
  if (o.selection !== 'random-candidates') return ranked;
  const pool = ranked.slice(0, o.candidates);
  // Fisher–Yates, seeded: the same rng state gives the same draw
  for (let i = pool.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool;
}

/** Negatives are laid out in descending similarity whatever chose them (DESIGN §3.4). */
export function byRank(taken: Hit[]): Hit[] {
  return [...taken].sort(compareHits);
}
