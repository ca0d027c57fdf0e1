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
import type { Embedder, Hit, Tokenizer, VectorSearcher } from './ports.js';
import { Rng } from './rng.js';
import { compareHits, eligible, emptySkips, selectTopK, type SelectionContext, type SkipCounts } from './select.js';
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
  };
}

export interface SequencePorts {
  searcher: VectorSearcher;
  embedder: Embedder;
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
export async function buildSequence(
  doc: { id: string; text: string },
  ports: SequencePorts,
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
  const input: PlanInput = { docChars: codePointLength(doc.text), chunks, vectors, ctx, ports, params, stats, signal };
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
interface PlanInput {
  docChars: number;
  chunks: string[];
  vectors: Float32Array[];
  ctx: SelectionContext;
  ports: SequencePorts;
  params: SequenceParams;
  stats: SequenceStats;
  signal?: AbortSignal;
}

/** Paper budget: the top k eligible negatives per meta-chunk, then the cut. */
async function planPaper(input: PlanInput): Promise<Plan> {
  const { docChars, chunks, vectors, ctx, ports, params, stats, signal } = input;
  const p = chunks.length;
  const k = paperNegativesPerChunk({
    targetTokens: params.targetTokens,
    charsPerToken: params.charsPerToken,
    weight: params.negativeWeight,
    docChars,
    metaChunks: p,
    chunkChars: params.chunkChars,
  });
  // one batched query; its list covers k plus everything earlier chunks may have used
  const limit = Math.min(ports.searcher.size, k * (p + 1) + p + params.overfetch);
  const lists = k > 0 && limit > 0 ? await ports.searcher.search(vectors, limit, ctx.metaDocId, signal) : chunks.map(() => []);
  const chosen: Hit[][] = [];
  for (let i = 0; i < p; i++) {
    let hits = lists[i]!;
    let requested = limit;
    let top = selectTopK(hits, k, ctx);
    // over-fetch again while the list came back full and the chunk still lacks negatives
    while (top.taken.length < k && hits.length >= requested && requested < ports.searcher.size) {
      requested = Math.min(ports.searcher.size, requested * 2);
      hits = (await ports.searcher.search([vectors[i]!], requested, ctx.metaDocId, signal))[0]!;
      top = selectTopK(hits, k, ctx);
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
async function planExact(input: PlanInput): Promise<Plan> {
  const { chunks, vectors, ctx, ports, params, stats, signal } = input;
  const tok = ports.tokenizer;
  // a piece is counted with the separator after it: they tokenize together (".\n\n", " \n\n"
  // are single tokens), so counting them apart overestimates by up to a token per piece
  const sep = params.separator;
  const metaTokens = chunks.map((c) => countParts(tok, [c, sep]));
  const targets = exactGroupTargets(params.targetTokens, metaTokens, 0);
  const room = targets[targets.length - 1] ?? 0;
  const p = chunks.length;
  const perChunk = Math.ceil(room / Math.max(1, p) / 64) + 8; // candidates per query, rough
  const limit = Math.min(ports.searcher.size, perChunk * (p + 1) + p + params.overfetch);
  const lists = room > 0 && limit > 0 ? await ports.searcher.search(vectors, limit, ctx.metaDocId, signal) : chunks.map(() => []);
  const groups: Group[] = [];
  const trailing: Piece[] = [];
  let cum = 0;
  const margin = 16; // tokens of slack: joins can tokenize a little differently than pieces
  for (let i = 0; i < p; i++) {
    const last = i === p - 1;
    const negatives: Piece[] = [];
    const skips = emptySkips();
    const cap = last && params.placement === 'head' ? Infinity : Math.max(0, targets[i]! - margin);
    const candidates = rankedEligible(lists[i]!, limit, vectors[i]!, ctx, ports.searcher, skips, signal);
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
async function* rankedEligible(
  first: Hit[],
  limit: number,
  vector: Float32Array,
  ctx: SelectionContext,
  searcher: VectorSearcher,
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

async function toGroups(
  docId: string,
  chunks: string[],
  chosen: Hit[][],
  searcher: VectorSearcher,
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
async function randomBaseline(query: Float32Array | undefined, searcher: VectorSearcher, rng: Rng): Promise<number[]> {
  if (!query || searcher.size === 0) return [];
  const keys = Array.from({ length: Math.min(8, searcher.size) }, () => rng.int(searcher.size));
  return searcher.scores(query, keys);
}
