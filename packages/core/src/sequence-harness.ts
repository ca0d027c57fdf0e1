/**
 * The harness of the sequence tests (excluded from the build): the fixture documents, in-test
 * fakes of our own ports (a bag-of-words embedder, a brute-force searcher), and the checks of
 * every invariant of a written record.
 */
import { readFileSync } from 'node:fs';
import { loadTokenizer } from '@nextlong/tokenizers';
import { type Placement, roundScore, type Segment } from './assemble.js';
import { measureCharsPerToken, paperNegativesPerChunk } from './budget.js';
import { groupSegments } from './chunker.js';
import type { ChunkRef, Embedder, Hit, Tokenizer, VectorSearcher } from './ports.js';
import type { Rng } from './rng.js';
import { compareHits } from './select.js';
import { buildSequence, type SequenceOutcome, type SequenceParams, type SequenceRecord } from './sequence.js';
import { codePointLength, hash53, sliceCodePoints, textHash } from './text.js';

export interface Doc {
  id: string;
  text: string;
}

export const docs: Doc[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Doc);

// ---- in-test fakes of our own ports ----

export const DIM = 64;

/** Deterministic toy embeddings: words hashed into a 64-d bag of words, L2-normalized. */
export class BagOfWordsEmbedder implements Embedder {
  readonly name = 'bow64';
  readonly dim = DIM;
  calls = 0;
  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls++;
    return texts.map(embedText);
  }
  async close(): Promise<void> {}
}

export function embedText(text: string): Float32Array {
  const v = new Float64Array(DIM);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) {
    const h = hash53(w);
    v[h % DIM] += h % 2 === 0 ? 1 : 0.5;
  }
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => (norm > 0 ? x / norm : 0));
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export interface PoolChunk {
  docId: string;
  chunk: number;
  text: string;
  hash: number;
  vector: Float32Array;
}

export function poolOf(pool: Doc[], chunkChars = 2048): PoolChunk[] {
  const out: PoolChunk[] = [];
  for (const d of pool)
    groupSegments(d.text, chunkChars).forEach((text, chunk) => {
      if (text !== '') out.push({ docId: d.id, chunk, text, hash: textHash(text), vector: embedText(text) });
    });
  return out;
}

/** Brute-force cosine searcher over in-memory chunks (the VectorSearcher port contract). */
export class BruteForceSearcher implements VectorSearcher {
  searches: { queries: number; limit: number }[] = [];
  constructor(
    readonly chunks: PoolChunk[],
    /** Simulate an index that ignores the exclusion (selection must still exclude). */
    private readonly leakSelf = false,
  ) {}
  get size(): number {
    return this.chunks.length;
  }
  async search(queries: Float32Array[], limit: number, excludeDocId: string): Promise<Hit[][]> {
    this.searches.push({ queries: queries.length, limit });
    return queries.map((q) =>
      this.chunks
        .map((c, key) => ({ key, docId: c.docId, chunk: c.chunk, score: cosine(q, c.vector), hash: c.hash }))
        .filter((h) => this.leakSelf || h.docId !== excludeDocId)
        .sort(compareHits)
        .slice(0, limit),
    );
  }
  async texts(keys: number[]): Promise<string[]> {
    return keys.map((k) => this.chunks[k]!.text);
  }
  async scores(query: Float32Array, keys: number[]): Promise<number[]> {
    return keys.map((k) => cosine(query, this.chunks[k]!.vector));
  }
  async sample(count: number, rng: Rng): Promise<ChunkRef[]> {
    return Array.from({ length: count }, () => {
      const key = rng.int(this.chunks.length);
      const c = this.chunks[key]!;
      return { key, docId: c.docId, chunk: c.chunk, hash: c.hash };
    });
  }
  async close(): Promise<void> {}
}

// ---- setup ----

export const tokenizer: Tokenizer = loadTokenizer('llama3');
export const E = measureCharsPerToken(
  tokenizer,
  docs.map((d) => d.text),
);
export const fullPool = poolOf(docs);

export function params(over: Partial<SequenceParams> = {}): SequenceParams {
  return {
    targetTokens: 4096,
    charsPerToken: E,
    negativeWeight: 1.5,
    chunkChars: 2048,
    placement: 'head',
    budget: 'paper',
    separator: '\n\n',
    overfetch: 32,
    seed: 0,
    ...over,
  };
}

export async function build(
  doc: Doc,
  p: SequenceParams,
  searcher: VectorSearcher = new BruteForceSearcher(fullPool),
): Promise<SequenceOutcome> {
  return buildSequence(doc, { searcher, embedder: new BagOfWordsEmbedder(), tokenizer }, p);
}

export function written(o: SequenceOutcome): Extract<SequenceOutcome, { kind: 'written' }> {
  if (o.kind !== 'written') throw new Error(`expected a written sequence, got ${o.kind} (${o.reason})`);
  return o;
}

/** Meta-documents with 2..maxChunks chunks whose own tokens stay below `maxTokens`. */
export function metaDocs(maxChunks: number, maxTokens: number, n: number): Doc[] {
  return docs
    .filter((d) => {
      const p = groupSegments(d.text).length;
      return p >= 2 && p <= maxChunks && tokenizer.count(d.text) < maxTokens;
    })
    .slice(0, n);
}

export const poolText = new Map(fullPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));

/** Every invariant of a written record (DESIGN §3.3, §3.4, §4). */
export function checkRecord(
  o: Extract<SequenceOutcome, { kind: 'written' }>,
  doc: Doc,
  p: SequenceParams,
  groupOf?: (segs: Segment[], i: number) => number,
  pool = poolText,
) {
  const r: SequenceRecord = o.record;
  const metaChunks = groupSegments(doc.text, p.chunkChars);
  expect(Object.keys(r)).toEqual(['id', 'text', 'num_tokens', 'tokenizer', 'meta_doc_id', 'placement', 'segments']);
  expect(r.id).toBe(doc.id);
  expect(r.meta_doc_id).toBe(doc.id);
  expect(r.tokenizer).toBe('llama3');
  expect(r.placement).toBe(p.placement);
  // re-tokenizing the text gives exactly T tokens, the ids returned
  const ids = tokenizer.encode(r.text);
  expect(ids.length).toBe(p.targetTokens);
  expect(r.num_tokens).toBe(p.targetTokens);
  expect(Array.from(o.ids)).toEqual(Array.from(ids));

  const segs = r.segments;
  expect(segs.length).toBeGreaterThan(0);
  expect(segs[0]!.start).toBe(0);
  expect(segs.at(-1)!.end).toBe(codePointLength(r.text));
  const seen = new Set<string>();
  const metaHashes = new Set(metaChunks.map(textHash));
  let nextMeta = 0;
  segs.forEach((s, i) => {
    const last = i === segs.length - 1;
    expect(s.end).toBeGreaterThanOrEqual(s.start);
    if (i > 0) expect(sliceCodePoints(r.text, segs[i - 1]!.end, s.start)).toBe(p.separator);
    const key = `${s.doc_id}\u0000${s.chunk}`;
    expect(seen.has(key)).toBe(false); // no (doc, chunk) twice in a sequence
    seen.add(key);
    const slice = sliceCodePoints(r.text, s.start, s.end);
    let piece: string;
    if (s.type === 'meta') {
      expect(s.doc_id).toBe(doc.id);
      expect(s.chunk).toBe(nextMeta++); // meta-chunks in order 0, 1, 2, …
      expect('score' in s).toBe(false);
      piece = metaChunks[s.chunk]!;
    } else {
      expect(s.doc_id).not.toBe(doc.id); // never a negative from the meta-document
      const c = pool.get(key)!;
      expect(c).toBeDefined();
      expect(metaHashes.has(c.hash)).toBe(false); // not a text duplicate of a meta-chunk
      // the score is the similarity to its own meta-chunk (or to one of them when the group is ambiguous)
      const scoreTo = (m: number) => roundScore(cosine(embedText(metaChunks[m]!), c.vector));
      if (groupOf) expect(s.score).toBe(scoreTo(groupOf(segs, i)));
      else expect(metaChunks.map((_, m) => scoreTo(m))).toContain(s.score);
      if (p.similarityCeiling !== undefined) expect(s.score!).toBeLessThanOrEqual(p.similarityCeiling);
      piece = c.text;
    }
    if (last) expect(piece.startsWith(slice)).toBe(true);
    else expect(slice).toBe(piece);
  });
  expect(o.stats.negatives).toBe(segs.filter((s) => s.type === 'negative').length);
  expect(o.stats.metaChunks).toBe(metaChunks.length);
}

/** Group of segment i when every group holds k negatives (paper budget, no shortfall). */
export const paperGroup = (k: number) => (_segs: Segment[], i: number) => Math.floor(i / (k + 1));

/** Group of a negative in an exact-budget record: head → the meta before it; tail → the meta after it (or the last). */
export function exactGroup(placement: Placement): ((segs: Segment[], i: number) => number) | undefined {
  const metasBefore = (segs: Segment[], i: number) => segs.slice(0, i).filter((s) => s.type === 'meta').length;
  if (placement === 'head') return (segs, i) => metasBefore(segs, i) - 1;
  if (placement === 'tail') return (segs, i) => Math.min(metasBefore(segs, i), segs.filter((s) => s.type === 'meta').length - 1);
  return undefined; // random: group boundaries are ambiguous between two metas
}

export async function buildChecked(doc: Doc, p: SequenceParams, searcher?: BruteForceSearcher) {
  const o = written(await build(doc, p, searcher));
  checkRecord(o, doc, p, o.stats.shortfall === 0 ? paperGroup(paperK(doc, p)) : undefined);
  return o;
}

export function paperK(doc: Doc, p: SequenceParams): number {
  return paperNegativesPerChunk({
    targetTokens: p.targetTokens,
    charsPerToken: p.charsPerToken,
    weight: p.negativeWeight,
    docChars: codePointLength(doc.text),
    metaChunks: groupSegments(doc.text, p.chunkChars).length,
    chunkChars: p.chunkChars,
  });
}

export const small = metaDocs(4, 2500, 5);
export const large = metaDocs(14, 9000, 40)
  .filter((d) => tokenizer.count(d.text) > 2000)
  .slice(0, 3);
