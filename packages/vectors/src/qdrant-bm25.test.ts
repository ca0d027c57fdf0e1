import { readFileSync } from 'node:fs';
import { bm25Query, groupSegments, Rng, termsOf, textHash, type ChunkPoint } from '@nextlong/core';
import { startQdrantStandIn, type QdrantStandIn } from '@nextlong/testing';
import { QdrantBackend, SegmentsBackend } from './backends.js';
import { openQdrantIndex } from './qdrant-index.js';
import { BM25_QDRANT_AVG_LENGTH, sparseDocVector } from './qdrant-sparse.js';
import { tempStore } from './test-support.js';

/**
 * `retriever: bm25` on Qdrant (sparse vectors, `modifier: idf`) against the strict stand-in, which
 * validates every request against Qdrant's OpenAPI document; on real text (docs-a slice).
 */

const docs = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(0, 40)
  .map((l) => JSON.parse(l) as { id: string; text: string });
const points: ChunkPoint[] = docs.flatMap((d) =>
  groupSegments(d.text, 1024)
    .map((text, chunk) => ({ docId: d.id, chunk, text, hash: textHash(text), vector: new Float32Array([1, (chunk % 5) + 1, 2]) }))
    .filter((p) => p.text.trim() !== ''),
);

/** BM25 from the textbook with the length norm against BM25_QDRANT_AVG_LENGTH, df over `points`. */
function bm25Fixed(query: string, text: string): number {
  const terms = termsOf(text);
  let s = 0;
  for (const t of new Set(termsOf(query))) {
    const tf = terms.filter((x) => x === t).length;
    if (tf === 0) continue;
    const df = points.filter((p) => termsOf(p.text).includes(t)).length;
    const idf = Math.log(1 + (points.length - df + 0.5) / (df + 0.5));
    s += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * terms.length) / BM25_QDRANT_AVG_LENGTH));
  }
  return s;
}

let standIn: QdrantStandIn;
let backend: QdrantBackend;
const opts = () => ({ url: standIn.url, collection: 'bm25', bm25: true, indexPollMs: 1, log: () => {} });

beforeAll(async () => {
  standIn = await startQdrantStandIn({ yellowPolls: 1 });
  backend = new QdrantBackend(opts(), async () => 3);
  for (const [i, part] of [points.slice(0, 200), points.slice(200)].entries()) {
    const w = await backend.open(`s${i}`, 3);
    await w.upsert(part);
    await w.close();
  }
  expect(await backend.seal({})).toBe(points.length);
});
afterAll(async () => {
  await standIn?.close();
});

test('the sparse vector of a chunk: ascending unique term ids, positive BM25 weights', () => {
  const v = sparseDocVector(points[3]!.text);
  expect(v.indices.length).toBe(new Set(termsOf(points[3]!.text)).size);
  expect([...v.indices].sort((a, b) => a - b)).toEqual(v.indices);
  expect(v.values.every((x) => x > 0 && x < 2.2)).toBe(true);
});

test('hits share terms with the query, ranked with ties by key, the query doc excluded; scores() equals the search score', async () => {
  const s = await backend.openBm25Searcher();
  try {
    for (const q of [points[5]!, points[120]!, points.at(-20)!]) {
      const query = bm25Query(q.text);
      const [hits] = await s.search([query], 25, q.docId);
      expect(hits!.length).toBe(25);
      const own = new Set(termsOf(q.text));
      const texts = await s.texts(hits!.map((h) => h.key));
      for (const [i, h] of hits!.entries()) {
        expect(h.docId).not.toBe(q.docId);
        expect(termsOf(texts[i]!).some((t) => own.has(t))).toBe(true);
        if (i > 0) expect(hits![i - 1]!.score > h.score || hits![i - 1]!.key < h.key).toBe(true);
      }
      const keys = [hits![3]!.key, hits![0]!.key, hits![3]!.key];
      const got = await s.scores(query, keys);
      got.forEach((x, i) => expect(x).toBeCloseTo([hits![3]!, hits![0]!, hits![3]!][i]!.score, 5));
    }
    const drawn = await s.sample(6, new Rng(1));
    expect(drawn).toEqual(await s.sample(6, new Rng(1)));
  } finally {
    await s.close();
  }
  // every request was inside the spec (the one 404: the first writer asking whether the collection exists)
  expect(standIn.requests.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual(['GET /collections/bm25 404']);
});

test('ranks like the local inverted index (same terms, idf; only the length norm differs)', async () => {
  const env = await tempStore();
  const local = new SegmentsBackend(env.store, { connectivity: 8, expansionAdd: 32, expansionSearch: 64 }, {}, true);
  const w = await local.open('all', 3);
  await w.upsert(points);
  await w.close();
  await local.seal({});
  const a = await local.openBm25Searcher();
  const b = await backend.openBm25Searcher();
  try {
    for (const q of [points[9]!, points[150]!, points.at(-5)!]) {
      const [x] = await a.search([bm25Query(q.text)], 10, q.docId);
      const [y] = await b.search([bm25Query(q.text)], 10, q.docId);
      const ids = (hs: typeof x) => new Set(hs!.map((h) => `${h.docId}#${h.chunk}`));
      const common = [...ids(x)].filter((k) => ids(y).has(k)).length;
      expect(common).toBeGreaterThanOrEqual(6);
      // Qdrant's score is BM25 by definition, with the fixed mean length (qdrant-sparse.ts)
      for (const h of y!) expect(h.score).toBeCloseTo(bm25Fixed(q.text, points.find((p) => p.docId === h.docId && p.chunk === h.chunk)!.text), 3);
    }
  } finally {
    await a.close();
    await b.close();
    await env.cleanup();
  }
});

test('a collection without the sparse vector (made by a dense run) is refused for bm25', async () => {
  const dense = await openQdrantIndex({ url: standIn.url, collection: 'dense', dim: 3, create: true });
  await dense.upsert(points.slice(0, 10));
  await dense.close();
  const b = new QdrantBackend({ ...opts(), collection: 'dense' }, async () => 3);
  await expect(b.openBm25Searcher()).rejects.toThrow(/needs the sparse vector "bm25" with modifier idf/);
});
