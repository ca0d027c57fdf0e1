import { readFileSync } from 'node:fs';
import { loadTokenizer } from '@nextlong/tokenizers';
import { roundScore, type Placement, type Segment } from './assemble.js';
import { measureCharsPerToken, paperNegativesPerChunk } from './budget.js';
import { groupSegments } from './chunker.js';
import type { Embedder, Hit, Tokenizer, VectorSearcher } from './ports.js';
import { compareHits } from './select.js';
import { buildSequence, type SequenceOutcome, type SequenceParams, type SequenceRecord } from './sequence.js';
import { codePointLength, hash53, sliceCodePoints, textHash } from './text.js';

interface Doc {
  id: string;
  text: string;
}

const docs: Doc[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Doc);

// ---- in-test fakes of our own ports ----

const DIM = 64;

/** Deterministic toy embeddings: words hashed into a 64-d bag of words, L2-normalized. */
class BagOfWordsEmbedder implements Embedder {
  readonly name = 'bow64';
  readonly dim = DIM;
  calls = 0;
  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls++;
    return texts.map(embedText);
  }
  async close(): Promise<void> {}
}

function embedText(text: string): Float32Array {
  const v = new Float64Array(DIM);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []) {
    const h = hash53(w);
    v[h % DIM] += h % 2 === 0 ? 1 : 0.5;
  }
  const norm = Math.hypot(...v);
  return Float32Array.from(v, (x) => (norm > 0 ? x / norm : 0));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

interface PoolChunk {
  docId: string;
  chunk: number;
  text: string;
  hash: number;
  vector: Float32Array;
}

function poolOf(pool: Doc[], chunkChars = 2048): PoolChunk[] {
  const out: PoolChunk[] = [];
  for (const d of pool)
    groupSegments(d.text, chunkChars).forEach((text, chunk) => {
      if (text !== '') out.push({ docId: d.id, chunk, text, hash: textHash(text), vector: embedText(text) });
    });
  return out;
}

/** Brute-force cosine searcher over in-memory chunks (the VectorSearcher port contract). */
class BruteForceSearcher implements VectorSearcher {
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
  async close(): Promise<void> {}
}

// ---- setup ----

const tokenizer: Tokenizer = loadTokenizer('llama3');
const E = measureCharsPerToken(
  tokenizer,
  docs.map((d) => d.text),
);
const fullPool = poolOf(docs);

function params(over: Partial<SequenceParams> = {}): SequenceParams {
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

async function build(doc: Doc, p: SequenceParams, searcher: VectorSearcher = new BruteForceSearcher(fullPool)): Promise<SequenceOutcome> {
  return buildSequence(doc, { searcher, embedder: new BagOfWordsEmbedder(), tokenizer }, p);
}

function written(o: SequenceOutcome): Extract<SequenceOutcome, { kind: 'written' }> {
  if (o.kind !== 'written') throw new Error(`expected a written sequence, got ${o.kind} (${o.reason})`);
  return o;
}

/** Meta-documents with 2..maxChunks chunks whose own tokens stay below `maxTokens`. */
function metaDocs(maxChunks: number, maxTokens: number, n: number): Doc[] {
  return docs
    .filter((d) => {
      const p = groupSegments(d.text).length;
      return p >= 2 && p <= maxChunks && tokenizer.count(d.text) < maxTokens;
    })
    .slice(0, n);
}

const poolText = new Map(fullPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));

/** Every invariant of a written record (DESIGN §3.3, §3.4, §4). */
function checkRecord(
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
const paperGroup = (k: number) => (_segs: Segment[], i: number) => Math.floor(i / (k + 1));

/** Group of a negative in an exact-budget record: head → the meta before it; tail → the meta after it (or the last). */
function exactGroup(placement: Placement): ((segs: Segment[], i: number) => number) | undefined {
  const metasBefore = (segs: Segment[], i: number) => segs.slice(0, i).filter((s) => s.type === 'meta').length;
  if (placement === 'head') return (segs, i) => metasBefore(segs, i) - 1;
  if (placement === 'tail') return (segs, i) => Math.min(metasBefore(segs, i), segs.filter((s) => s.type === 'meta').length - 1);
  return undefined; // random: group boundaries are ambiguous between two metas
}

async function buildChecked(doc: Doc, p: SequenceParams, searcher?: BruteForceSearcher) {
  const o = written(await build(doc, p, searcher));
  checkRecord(o, doc, p, o.stats.shortfall === 0 ? paperGroup(paperK(doc, p)) : undefined);
  return o;
}

function paperK(doc: Doc, p: SequenceParams): number {
  return paperNegativesPerChunk({
    targetTokens: p.targetTokens,
    charsPerToken: p.charsPerToken,
    weight: p.negativeWeight,
    docChars: codePointLength(doc.text),
    metaChunks: groupSegments(doc.text, p.chunkChars).length,
    chunkChars: p.chunkChars,
  });
}

// ---- tests ----

const small = metaDocs(4, 2500, 5);
const large = metaDocs(14, 9000, 40)
  .filter((d) => tokenizer.count(d.text) > 2000)
  .slice(0, 3);

test('fixture sanity: candidates for meta-documents exist', () => {
  expect(small.length).toBe(5);
  expect(large.length).toBeGreaterThan(0);
  expect(E).toBeGreaterThan(3);
  expect(E).toBeLessThan(6);
  expect(fullPool.length).toBeGreaterThan(400);
});

describe.each([4096, 16384])('paper budget, T = %i', (T) => {
  const metas = T === 4096 ? small : [...small.slice(0, 2), ...large];

  test.each(['head', 'tail', 'random'] as const)('%s: invariants on real text', async (placement) => {
    for (const doc of metas) {
      const p = params({ targetTokens: T, placement });
      const o = await buildChecked(doc, p);
      const k = paperK(doc, p);
      expect(k).toBeGreaterThan(0);
      expect(o.stats.shortfall).toBe(0);
      // the layout: group i occupies indices [i(k+1), (i+1)(k+1)) (the tail may be cut)
      const segs = o.record.segments;
      segs.forEach((s, idx) => {
        if (s.type !== 'meta') return;
        const lo = s.chunk * (k + 1);
        if (placement === 'head') expect(idx).toBe(lo);
        else if (placement === 'tail') expect(idx).toBe(lo + k);
        else {
          expect(idx).toBeGreaterThanOrEqual(lo);
          expect(idx).toBeLessThanOrEqual(lo + k);
        }
      });
      // negatives of a group in descending similarity
      for (let g = 0; g * (k + 1) < segs.length; g++) {
        const scores = segs
          .slice(g * (k + 1), (g + 1) * (k + 1))
          .filter((s) => s.type === 'negative')
          .map((s) => s.score!);
        for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThanOrEqual(scores[i - 1]!);
      }
    }
  });
});

describe('determinism', () => {
  test('same seed → identical record, from fresh ports', async () => {
    const [poolA, poolB] = [poolOf(docs), poolOf(docs)];
    for (const placement of ['head', 'random'] as const) {
      const p = params({ placement, targetTokens: 4096 });
      const a = written(await build(small[1]!, p, new BruteForceSearcher(poolA)));
      const b = written(await build(small[1]!, p, new BruteForceSearcher(poolB)));
      expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
      expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
      expect(b.stats).toEqual(a.stats);
    }
  });

  test('random placement varies with the seed, deterministically', async () => {
    const doc = small[0]!;
    const layouts = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const p = params({ placement: 'random', seed });
      const a = await buildChecked(doc, p);
      const b = written(await build(doc, p));
      expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
      layouts.add(a.record.segments.map((s) => s.type[0]).join(''));
    }
    expect(layouts.size).toBeGreaterThan(1);
  });

  test('head and tail do not depend on the seed', async () => {
    for (const placement of ['head', 'tail'] as const) {
      const a = written(await build(small[2]!, params({ placement, seed: 1 })));
      const b = written(await build(small[2]!, params({ placement, seed: 2 })));
      expect(b.record).toEqual(a.record);
    }
  });
});

describe('selection rules inside a sequence', () => {
  test('no negative from the meta-document even when the index leaks it', async () => {
    const doc = small[0]!;
    const leaky = new BruteForceSearcher(fullPool, true);
    const o = await buildChecked(doc, params(), leaky);
    expect(o.stats.skips.self).toBeGreaterThan(0);
  });

  test('reuse across meta-chunks is skipped and counted', async () => {
    const doc = large[0]!;
    const o = await buildChecked(doc, params({ targetTokens: 16384 }));
    expect(o.stats.skips.reused).toBeGreaterThan(0);
  });

  test('text duplicates of meta-chunks (after normalization) are skipped', async () => {
    const doc = small[0]!;
    // a copy of the meta-document under another id, re-cased and re-spaced: same normalized chunks
    // (same code point lengths, so the copy chunks exactly like the original)
    const copy: Doc = { id: 'copy-of-meta', text: doc.text.toUpperCase().replace(/ /g, '\t') };
    expect(codePointLength(copy.text)).toBe(codePointLength(doc.text));
    const chunks = [...poolOf([copy]), ...fullPool];
    const pool = new Map(chunks.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));
    const p = params();
    const o = written(await build(doc, p, new BruteForceSearcher(chunks)));
    checkRecord(o, doc, p, undefined, pool);
    expect(o.stats.skips.duplicate).toBeGreaterThan(0);
    expect(o.record.segments.some((s) => s.doc_id === 'copy-of-meta')).toBe(false);
  });

  test('a similarity ceiling skips near-duplicates and still fills every group (over-fetch)', async () => {
    const doc = small[3]!;
    const free = written(await build(doc, params()));
    const top = Math.max(...free.record.segments.filter((s) => s.type === 'negative').map((s) => s.score!));
    const ceiling = roundScore(top - 0.05);
    const searcher = new BruteForceSearcher(fullPool);
    const p = params({ similarityCeiling: ceiling, overfetch: 0 });
    const o = await buildChecked(doc, p, searcher);
    expect(o.stats.skips.ceiling).toBeGreaterThan(0);
    expect(o.stats.shortfall).toBe(0);
    for (const s of o.stats.scores) expect(s).toBeLessThanOrEqual(ceiling);
  });

  test.each([0.5, 0.7, 0.25])(
    'over-fetch with ceiling %f: lists emptied by exclusions are fetched again; selection equals a brute-force reference',
    async (quantile) => {
      const doc = small[4]!;
      const metaChunks = groupSegments(doc.text);
      const metaVecs = metaChunks.map(embedText);
      // a ceiling at a quantile of the first meta-chunk's scores: many top candidates are skipped
      const scores0 = fullPool
        .filter((c) => c.docId !== doc.id)
        .map((c) => cosine(metaVecs[0]!, c.vector))
        .sort((x, y) => x - y);
      const ceiling = scores0[Math.floor(quantile * (scores0.length - 1))]!;
      const p = params({ similarityCeiling: ceiling, overfetch: 0 });
      const k = paperK(doc, p);
      // reference: for each meta-chunk in order, the top k eligible of the whole pool
      const metaHashes = new Set(metaChunks.map(textHash));
      const used = new Set<number>();
      const expected: number[][] = [];
      let shortfall = 0;
      metaVecs.forEach((v) => {
        const ranked = fullPool
          .map((c, key) => ({ key, docId: c.docId, chunk: c.chunk, hash: c.hash, score: cosine(v, c.vector) }))
          .filter((h) => h.docId !== doc.id && !used.has(h.key) && !metaHashes.has(h.hash) && h.score <= ceiling)
          .sort(compareHits)
          .slice(0, k);
        for (const h of ranked) used.add(h.key);
        expected.push(ranked.map((h) => h.key));
        shortfall += k - ranked.length;
      });
      const searcher = new BruteForceSearcher(fullPool);
      const o = await build(doc, p, searcher);
      expect(o.stats.shortfall).toBe(shortfall);
      expect(searcher.searches.some((x) => x.queries === 1)).toBe(true); // a longer list was fetched
      // the placed negatives are the reference's, in order (the record may be cut before the end)
      const keyOf = new Map(fullPool.map((c, key) => [`${c.docId}\u0000${c.chunk}`, key]));
      const placed = written(o)
        .record.segments.filter((x) => x.type === 'negative')
        .map((x) => keyOf.get(`${x.doc_id}\u0000${x.chunk}`));
      expect(placed).toEqual(expected.flat().slice(0, placed.length));
      expect(placed.length).toBeGreaterThan(0);
    },
  );
});

describe('exact budget', () => {
  test.each([
    [4096, 'head'],
    [4096, 'tail'],
    [4096, 'random'],
    [16384, 'head'],
    [16384, 'tail'],
    [16384, 'random'],
  ] as const)('T = %i, %s: every meta-chunk lies fully inside the text', async (T, placement) => {
    const metas = T === 4096 ? small : large;
    for (const doc of metas) {
      const p = params({ targetTokens: T, placement, budget: 'exact' });
      const o = written(await build(doc, p));
      checkRecord(o, doc, p, exactGroup(placement));
      const metaChunks = groupSegments(doc.text);
      const metaSegs = o.record.segments.filter((s) => s.type === 'meta');
      expect(metaSegs.map((s) => s.chunk)).toEqual(metaChunks.map((_, i) => i));
      for (const s of metaSegs) expect(s.end - s.start).toBe(codePointLength(metaChunks[s.chunk]!));
      // the last segment (the one cut) is a negative
      expect(o.record.segments.at(-1)!.type).toBe('negative');
      expect(o.stats.shortfall).toBe(0);
    }
  });

  test('exact budget is deterministic', async () => {
    const p = params({ targetTokens: 4096, placement: 'random', budget: 'exact', seed: 3 });
    const a = written(await build(small[0]!, p));
    const b = written(await build(small[0]!, p));
    expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
  });
});

describe('a pool that runs out', () => {
  const doc = small[0]!;
  const tiny = poolOf(docs.filter((d) => d.id !== doc.id).slice(0, 2));

  test.each(['paper', 'exact'] as const)('%s: too_short discard and a recorded shortfall', async (budget) => {
    const searcher = new BruteForceSearcher(tiny);
    const o = await build(doc, params({ targetTokens: 16384, budget }), searcher);
    expect(o.kind).toBe('discarded');
    if (o.kind !== 'discarded') return;
    expect(o.reason).toBe('too_short');
    expect(o.stats.shortfall).toBeGreaterThan(0);
  });

  test('paper: the shortfall is k·p minus what the pool had', async () => {
    const searcher = new BruteForceSearcher(tiny);
    const p = params({ targetTokens: 16384 });
    const o = await build(doc, p, searcher);
    const k = paperK(doc, p);
    const p0 = groupSegments(doc.text).length;
    // every pool chunk is used once (no reuse), the rest is missing
    expect(o.stats.shortfall).toBe(k * p0 - tiny.length);
  });

  test('paper: a pool just big enough still reaches T (shortfall recorded, sequence kept)', async () => {
    const mid = poolOf(docs.filter((d) => d.id !== doc.id).slice(0, 12));
    const p = params({ targetTokens: 4096 });
    const k = paperK(doc, p);
    const o = await build(doc, p, new BruteForceSearcher(mid));
    if (mid.length < k * groupSegments(doc.text).length) expect(o.stats.shortfall).toBeGreaterThan(0);
    expect(o.kind).toBe('written');
  });

  test('an empty pool', async () => {
    const o = await build(doc, params(), new BruteForceSearcher([]));
    expect(o.kind).toBe('discarded');
    expect(o.stats.randomScores).toEqual([]);
  });
});

describe('a pool of short documents (many small chunks)', () => {
  // every non-empty line of the fixture becomes a pool document of its own (~90 characters)
  const lineDocs: Doc[] = docs.flatMap((d) =>
    d.text
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((text, i) => ({ id: `${d.id}#${i}`, text })),
  );
  const shortPool = poolOf(lineDocs);
  const pool = new Map(shortPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));

  test.each(['head', 'tail', 'random'] as const)('exact, %s: reaches T when the pool holds far more than T tokens', async (placement) => {
    const doc = small[1]!;
    const p = params({ targetTokens: 16384, budget: 'exact', placement });
    const searcher = new BruteForceSearcher(shortPool);
    const o = await build(doc, p, searcher);
    expect(o.stats.shortfall).toBe(0);
    checkRecord(written(o), doc, p, exactGroup(placement), pool);
  });

  test.each(['head', 'tail', 'random'] as const)(
    'exact, %s: tiny documents (a few words each) need longer lists, fetched again',
    async (placement) => {
      // ~6 words per document: the first list of candidates cannot hold T tokens
      const words = docs.slice(0, 30).flatMap((d) => d.text.split(/\s+/u).filter(Boolean));
      const tinyDocs: Doc[] = [];
      for (let i = 0; i + 6 <= words.length; i += 6) tinyDocs.push({ id: `w${i}`, text: words.slice(i, i + 6).join(' ') });
      const tinyPool = poolOf(tinyDocs);
      const tinyMap = new Map(tinyPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));
      const doc = small[1]!;
      const p = params({ targetTokens: 16384, budget: 'exact', placement });
      const searcher = new BruteForceSearcher(tinyPool);
      const o = await build(doc, p, searcher);
      expect(o.stats.shortfall).toBe(0);
      checkRecord(written(o), doc, p, exactGroup(placement), tinyMap);
      expect(searcher.searches.some((s) => s.queries === 1)).toBe(true); // fetched a longer list
    },
  );

  test('paper: k assumes negatives of s characters, so short negatives fall short of T (faithful)', async () => {
    const doc = small[1]!;
    const p = params({ targetTokens: 16384 });
    const o = await build(doc, p, new BruteForceSearcher(shortPool));
    expect(o.stats.shortfall).toBe(0);
    expect(o.kind).toBe('discarded');
    if (o.kind === 'discarded') expect(o.reason).toBe('too_short');
  });
});

describe('random-negative baseline', () => {
  test('scores of the first meta-chunk against seeded random pool chunks', async () => {
    const doc = small[0]!;
    const a = written(await build(doc, params()));
    const b = written(await build(doc, params()));
    expect(a.stats.randomScores).toHaveLength(8);
    expect(b.stats.randomScores).toEqual(a.stats.randomScores);
    for (const s of a.stats.randomScores) {
      expect(s).toBeGreaterThanOrEqual(-1);
      expect(s).toBeLessThanOrEqual(1.000001);
    }
  });
});
