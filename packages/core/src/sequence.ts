import type { RunConfig } from './config.js';
import {
  countParts,
  cutToTokens,
  joinedParts,
  joinPieces,
  NoExactCutError,
  layout,
  type Group,
  type Piece,
  type Placement,
  type Segment,
} from './assemble.js';
import { exactGroupTargets, paperNegativesPerChunk } from './budget.js';
import { groupSegments } from './chunker.js';
import type { Hit, QueryEncoder, Tokenizer, VectorSearcher } from './ports.js';
import { Rng } from './rng.js';
import { chooseFromPool, chooseFromRanked, exactPoolDraws, randomPoolCandidates } from './negatives.js';
import {
  candidatesNeeded,
  compareHits,
  eligible,
  emptySkips,
  parseBand,
  strategyOrder,
  TOPK,
  type SelectionContext,
  type SelectionOptions,
  type SkipCounts,
} from './select.js';
import { codePointLength, textHash } from './text.js';

export interface SequenceParams {
  targetTokens: number;
  charsPerToken: number;
  negativeWeight: number;
  chunkChars: number;
  placement: Placement;
  budget: 'paper' | 'exact';
  separator: string;
  similarityCeiling?: number;
  overfetch: number;
  seed: number;
  /** How negatives are chosen (absent: `topk`, the paper's). */
  selection?: SelectionOptions;
}

/** The sequence parameters of a run configuration; E (charsPerToken) comes from the plan. */
export function sequenceParams(c: RunConfig, charsPerToken: number): SequenceParams {
  return {
    targetTokens: c.targetTokens,
    charsPerToken,
    negativeWeight: c.negativeWeight,
    chunkChars: c.chunkChars,
    placement: c.placement,
    budget: c.budget,
    separator: c.separator,
    similarityCeiling: c.similarityCeiling,
    overfetch: c.overfetch,
    seed: c.seed,
    selection: {
      selection: c.selection,
      candidates: c.candidates,
      band: c.selection === 'band' ? parseBand(c.band, c.candidates) : TOPK.band,
    },
  };
}

/** What a sequence is built with; `embedder` makes the searcher's queries (the retriever). */
export interface SequencePorts<Q = Float32Array> {
  searcher: VectorSearcher<Q>;
  embedder: QueryEncoder<Q>;
  tokenizer: Tokenizer;
}

/** The output record (DESIGN §4), keys in contract order. */
export interface SequenceRecord {
  id: string;
  text: string;
  num_tokens: number;
  tokenizer: string;
  meta_doc_id: string;
  placement: Placement;
  segments: Segment[];
}

export interface SequenceStats {
  metaChunks: number;
  negatives: number;
  /** Negatives wanted but not available in the pool (the pool ran out). */
  shortfall: number;
  skips: SkipCounts;
  /** Scores of the negatives placed, for the score summary. */
  scores: number[];
  /** Similarity of meta-chunk 1 to random pool chunks (the "random negatives" baseline). */
  randomScores: number[];
}

export type SequenceOutcome =
  | { kind: 'written'; record: SequenceRecord; ids: Uint32Array; stats: SequenceStats }
  | { kind: 'discarded'; reason: DiscardReason; stats: SequenceStats };

/** `too_short`: the pieces have fewer than T tokens; `no_exact_cut`: no prefix has exactly T (see NoExactCutError). */
export type DiscardReason = 'too_short' | 'no_exact_cut';

/** Builds the NExtLong sequence of one meta-document (DESIGN §3). */
export async function buildSequence<Q>(
  doc: { id: string; text: string },
  ports: SequencePorts<Q>,
  params: SequenceParams,
  signal?: AbortSignal,
): Promise<SequenceOutcome> {
  const chunks = groupSegments(doc.text, params.chunkChars);
  const vectors = await ports.embedder.embed(chunks, signal);
  const ctx: SelectionContext = {
    metaDocId: doc.id,
    metaHashes: new Set(chunks.map(textHash)),
    used: new Set(),
    ceiling: params.similarityCeiling,
  };
  const stats: SequenceStats = { metaChunks: chunks.length, negatives: 0, shortfall: 0, skips: emptySkips(), scores: [], randomScores: [] };
  const rng = new Rng(`${params.seed}:${doc.id}`);
  // its own stream: a strategy's draws never shift random placement or the baseline
  const draws = new Rng(`${params.seed}:${doc.id}:selection`);
  const sel = params.selection ?? TOPK;
  const input: PlanInput<Q> = { docChars: codePointLength(doc.text), chunks, vectors, ctx, ports, params, stats, sel, draws, signal };
  const plan = params.budget === 'paper' ? await planPaper(input) : await planExact(input);
  const pieces = layout(plan.groups, params.placement, rng, plan.trailing);
  const joined = joinPieces(pieces, params.separator);
  stats.randomScores = await randomBaseline(vectors[0], ports.searcher, rng);
  let cut: ReturnType<typeof cutToTokens>;
  try {
    cut = cutToTokens(joined.text, joined.segments, ports.tokenizer, params.targetTokens, joinedParts(pieces, params.separator));
  } catch (err) {
    if (err instanceof NoExactCutError) return { kind: 'discarded', reason: 'no_exact_cut', stats };
    throw err;
  }
  if (!cut) return { kind: 'discarded', reason: 'too_short', stats };
  const placed = cut.segments.filter((s) => s.type === 'negative');
  stats.negatives = placed.length;
  stats.scores = placed.map((s) => s.score ?? 0);
  const record: SequenceRecord = {
    id: doc.id,
    text: cut.text,
    num_tokens: cut.ids.length,
    tokenizer: ports.tokenizer.name,
    meta_doc_id: doc.id,
    placement: params.placement,
    segments: cut.segments,
  };
  return { kind: 'written', record, ids: cut.ids, stats };
}

interface Plan {
  groups: Group[];
  trailing: Piece[];
}

/** What a budget planner works from: the meta-document's chunks and their embeddings. */
interface PlanInput<Q> {
  docChars: number;
  chunks: string[];
  vectors: Q[];
  ctx: SelectionContext;
  ports: SequencePorts<Q>;
  params: SequenceParams;
  stats: SequenceStats;
  sel: SelectionOptions;
  draws: Rng;
  signal?: AbortSignal;
}

/** Paper budget: the top k eligible negatives per meta-chunk, then the cut. */
async function planPaper<Q>(input: PlanInput<Q>): Promise<Plan> {
  const { docChars, chunks, vectors, ctx, ports, params, stats, sel, draws, signal } = input;
  const p = chunks.length;
  const k = paperNegativesPerChunk({
    targetTokens: params.targetTokens,
    charsPerToken: params.charsPerToken,
    weight: params.negativeWeight,
    docChars,
    metaChunks: p,
    chunkChars: params.chunkChars,
  });
  // one batched query; its list covers what the strategy needs plus everything earlier chunks may have used
  const need = candidatesNeeded(sel, k);
  const limit = Math.min(ports.searcher.size, need + k * p + p + params.overfetch);
  const retrieve = k > 0 && limit > 0 && sel.selection !== 'random-pool';
  const lists = retrieve ? await ports.searcher.search(vectors, limit, ctx.metaDocId, signal) : chunks.map(() => []);
  const chosen: Hit[][] = [];
  for (let i = 0; i < p; i++) {
    if (sel.selection === 'random-pool') {
      const top = await chooseFromPool(vectors[i]!, k, ports.searcher, ctx, draws, signal);
      addSkips(stats.skips, top.skips);
      stats.shortfall += k - top.taken.length;
      for (const h of top.taken) ctx.used.add(h.key);
      chosen.push(top.taken);
      continue;
    }
    let hits = lists[i]!;
    let requested = limit;
    let top = chooseFromRanked(hits, k, ctx, sel, draws);
    // over-fetch again while the list came back full and the chunk still lacks candidates
    while (top.ranked < need && hits.length >= requested && requested < ports.searcher.size) {
      requested = Math.min(ports.searcher.size, requested * 2);
      hits = (await ports.searcher.search([vectors[i]!], requested, ctx.metaDocId, signal))[0]!;
      top = chooseFromRanked(hits, k, ctx, sel, draws);
    }
    addSkips(stats.skips, top.skips);
    stats.shortfall += k - top.taken.length;
    for (const h of top.taken) ctx.used.add(h.key);
    chosen.push(top.taken);
  }
  return { groups: await toGroups(ctx.metaDocId, chunks, chosen, ports.searcher, signal), trailing: [] };
}

/**
 * Exact budget (ours): token-measured negatives so that every meta-chunk lies inside T.
 * Groups before the last hold negatives up to cumulative targets; the rest reaches T
 * (after mₚ for head, as trailing negatives for tail/random).
 */
async function planExact<Q>(input: PlanInput<Q>): Promise<Plan> {
  const { chunks, vectors, ctx, ports, params, stats, sel, draws, signal } = input;
  const tok = ports.tokenizer;
  // a piece is counted with the separator after it: they tokenize together (".\n\n", " \n\n"
  // are single tokens), so counting them apart overestimates by up to a token per piece
  const sep = params.separator;
  const metaTokens = chunks.map((c) => countParts(tok, [c, sep]));
  const targets = exactGroupTargets(params.targetTokens, metaTokens, 0);
  const room = targets[targets.length - 1] ?? 0;
  const p = chunks.length;
  const perChunk = Math.ceil(room / Math.max(1, p) / 64) + 8; // candidates per query, rough
  const limit = Math.min(ports.searcher.size, Math.max(perChunk, candidatesNeeded(sel, 0)) + perChunk * p + p + params.overfetch);
  const retrieve = room > 0 && limit > 0 && sel.selection !== 'random-pool';
  const lists = retrieve ? await ports.searcher.search(vectors, limit, ctx.metaDocId, signal) : chunks.map(() => []);
  const groups: Group[] = [];
  const trailing: Piece[] = [];
  let cum = 0;
  const margin = 16; // tokens of slack: joins can tokenize a little differently than pieces
  for (let i = 0; i < p; i++) {
    const last = i === p - 1;
    const negatives: Piece[] = [];
    const skips = emptySkips();
    const cap = last && params.placement === 'head' ? Infinity : Math.max(0, targets[i]! - margin);
    const ranked = () => rankedEligible(lists[i]!, limit, vectors[i]!, ctx, ports.searcher, skips, signal);
    const candidates =
      sel.selection === 'topk'
        ? ranked()
        : sel.selection === 'random-pool'
          ? randomPoolCandidates(vectors[i]!, ports.searcher, ctx, draws, skips, exactPoolDraws(ports.searcher), signal)
          : strategyCandidates(ranked(), sel, draws);
    for await (const batch of batches(candidates, 16)) {
      const texts = await ports.searcher.texts(
        batch.map((h) => h.key),
        signal,
      );
      let stop = false;
      for (let j = 0; j < batch.length && !stop; j++) {
        const h = batch[j]!;
        const t = countParts(tok, [texts[j]!, sep]);
        const piece = toPiece(h, texts[j]!);
        if (cum + t <= cap) {
          negatives.push(piece);
          cum += t;
          ctx.used.add(h.key);
        } else if (last) {
          // tail/random: overflow after the final meta-chunk reaches T without cutting mₚ
          trailing.push(piece);
          cum += t;
          ctx.used.add(h.key);
        } else stop = true;
        if (last && cum >= room + margin) stop = true;
      }
      if (stop) break;
    }
    addSkips(stats.skips, skips);
    // drawn in a strategy's order, laid out by descending similarity like top-k (stable: ties keep draw order)
    if (sel.selection !== 'topk') negatives.sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
    groups.push({ meta: { type: 'meta', docId: ctx.metaDocId, chunk: i, text: chunks[i]! }, negatives });
  }
  if (cum < room + margin) stats.shortfall += 1;
  return { groups, trailing };
}

/**
 * The eligible candidates of one meta-chunk in rank order. When the list runs out while it
 * came back full, a list twice as long is fetched and only its new candidates are considered
 * (over-fetch: never fewer than the pool has, whatever the chunk sizes).
 */
async function* rankedEligible<Q>(
  first: Hit[],
  limit: number,
  vector: Q,
  ctx: SelectionContext,
  searcher: VectorSearcher<Q>,
  skips: SkipCounts,
  signal?: AbortSignal,
): AsyncGenerator<Hit> {
  const considered = new Set<number>();
  let hits = first;
  let requested = limit;
  for (;;) {
    const fresh = hits.filter((h) => !considered.has(h.key)).sort(compareHits);
    for (const h of fresh) considered.add(h.key);
    yield* eligible(fresh, ctx, skips);
    if (hits.length < requested || requested >= searcher.size) return;
    requested = Math.min(searcher.size, requested * 2);
    hits = (await searcher.search([vector], requested, ctx.metaDocId, signal))[0]!;
  }
}

/** `band` / `random-candidates` for the exact budget: the strategy's order of the first eligible candidates. */
async function* strategyCandidates(ranked: AsyncIterable<Hit>, sel: SelectionOptions, draws: Rng): AsyncGenerator<Hit> {
  const need = candidatesNeeded(sel, 0);
  const first: Hit[] = [];
  for await (const h of ranked) {
    first.push(h);
    if (first.length === need) break;
  }
  yield* strategyOrder(first, sel, draws);
}

async function* batches<T>(it: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let b: T[] = [];
  for await (const x of it) {
    b.push(x);
    if (b.length === size) {
      yield b;
      b = [];
    }
  }
  if (b.length) yield b;
}

async function toGroups<Q>(
  docId: string,
  chunks: string[],
  chosen: Hit[][],
  searcher: VectorSearcher<Q>,
  signal?: AbortSignal,
): Promise<Group[]> {
  const keys = chosen.flat().map((h) => h.key);
  const texts = keys.length ? await searcher.texts(keys, signal) : [];
  let t = 0;
  return chunks.map((text, i) => ({
    meta: { type: 'meta' as const, docId, chunk: i, text },
    negatives: chosen[i]!.map((h) => toPiece(h, texts[t++]!)),
  }));
}

function toPiece(h: Hit, text: string): Piece {
  return { type: 'negative', docId: h.docId, chunk: h.chunk, text, score: h.score };
}

function addSkips(into: SkipCounts, from: SkipCounts): void {
  into.self += from.self;
  into.reused += from.reused;
  into.duplicate += from.duplicate;
  into.ceiling += from.ceiling;
}

/** Scores of the first meta-chunk against a few random pool chunks (seeded). */
async function randomBaseline<Q>(query: Q | undefined, searcher: VectorSearcher<Q>, rng: Rng): Promise<number[]> {
  if (!query || searcher.size === 0) return [];
  const refs = await searcher.sample(Math.min(8, searcher.size), rng);
  return searcher.scores(
    query,
    refs.map((r) => r.key),
  );
}
