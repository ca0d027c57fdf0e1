import type { ChunkRef, Hit, VectorSearcher } from './ports.js';
import type { Rng } from './rng.js';
import {
  byRank,
  candidatesNeeded,
  eligible,
  emptySkips,
  strategyOrder,
  type SelectionContext,
  type SelectionOptions,
  type SkipCounts,
} from './select.js';

/**
 * Choosing one meta-chunk's negatives from a ranked list, by the run's selection strategy
 * (select.ts). `topk` takes exactly what selectTopK takes, with the same skip counts.
 */
export function chooseFromRanked(hits: Hit[], k: number, ctx: SelectionContext, o: SelectionOptions, rng: Rng) {
  const skips = emptySkips();
  const ranked: Hit[] = [];
  const need = candidatesNeeded(o, k);
  if (k > 0 && need > 0)
    for (const h of eligible(hits, ctx, skips)) {
      ranked.push(h);
      if (ranked.length === need) break;
    }
  const taken = o.selection === 'topk' ? ranked.slice(0, k) : byRank(strategyOrder(ranked, o, rng).slice(0, k));
  return { taken, skips, ranked: ranked.length };
}

/** Most pool draws per wanted negative before `random-pool` gives up (a pool of one document). */
const DRAWS_PER_NEGATIVE = 8;

/**
 * `random-pool` (the easy-negatives control): pool chunks drawn at random, no retrieval; the
 * same rules exclude the meta-document, reuse, duplicates and the ceiling. Yields eligible
 * chunks with their similarity to `query`, in draw order, until the caller stops or the draws
 * run out (`max` of them).
 */
export async function* randomPoolCandidates<Q>(
  query: Q,
  searcher: VectorSearcher<Q>,
  ctx: SelectionContext,
  rng: Rng,
  skips: SkipCounts,
  max: number,
  signal?: AbortSignal,
): AsyncGenerator<Hit> {
  const seen = new Set<number>();
  for (let drawn = 0; drawn < max && searcher.size > 0; ) {
    const n = Math.min(32, max - drawn);
    drawn += n;
    const refs = await searcher.sample(n, rng, signal);
    const fresh: ChunkRef[] = [];
    for (const r of refs) {
      if (r.docId === ctx.metaDocId) skips.self++;
      else if (ctx.used.has(r.key) || seen.has(r.key)) skips.reused++;
      else if (ctx.metaHashes.has(r.hash)) skips.duplicate++;
      else fresh.push(r);
      seen.add(r.key);
    }
    if (fresh.length === 0) continue;
    const scores = await searcher.scores(
      query,
      fresh.map((r) => r.key),
      signal,
    );
    for (const [i, r] of fresh.entries()) {
      const h = { ...r, score: scores[i]! };
      if (ctx.ceiling !== undefined && h.score > ctx.ceiling) skips.ceiling++;
      else yield h;
    }
  }
}

/** `random-pool` for the paper budget: `k` random eligible chunks, laid out by descending score. */
export async function chooseFromPool<Q>(query: Q, k: number, searcher: VectorSearcher<Q>, ctx: SelectionContext, rng: Rng, signal?: AbortSignal) {
  const skips = emptySkips();
  const taken: Hit[] = [];
  if (k > 0)
    for await (const h of randomPoolCandidates(query, searcher, ctx, rng, skips, k * DRAWS_PER_NEGATIVE + 32, signal)) {
      taken.push(h);
      if (taken.length === k) break;
    }
  return { taken: byRank(taken), skips };
}

/** Draws `random-pool` may make for the exact budget, which has no k: enough for any T in practice. */
export function exactPoolDraws(searcher: { size: number }): number {
  return Math.min(searcher.size * 2, 1 << 16) + 32;
}
