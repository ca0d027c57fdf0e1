import type { Hit } from './ports.js';

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
