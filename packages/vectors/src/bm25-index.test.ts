import { readFileSync } from 'node:fs';
import { bm25Query, groupSegments, Rng, termsOf, textHash, type ChunkPoint, type Hit } from '@nextlong/core';
import { buildBm25Index, BM25_DESCRIPTOR_KEY } from './bm25-build.js';
import { openBm25Index, type Bm25Index } from './bm25-index.js';
import { SegmentsBackend } from './backends.js';
import { openSegmentsIndex, type SegmentsVectorIndex } from './segments-index.js';
import { writeSegment } from './segment-format.js';
import { tempStore } from './test-support.js';

/** The bm25 retriever's index on real text (test/fixtures/docs-a.slice.jsonl), against BM25 computed here from its definition. */

const docs = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { id: string; text: string });

const points: ChunkPoint[] = docs.flatMap((d) =>
  groupSegments(d.text, 1024)
    .map((text, chunk) => ({ docId: d.id, chunk, text, hash: textHash(text), vector: new Float32Array([1, chunk % 7, 1]) }))
    .filter((p) => p.text.trim() !== ''),
);

/** BM25 from the textbook: k1 1.2, b 0.75, idf ln(1 + (N − df + 0.5)/(df + 0.5)), distinct query terms. */
function reference(pool: string[]) {
  const docsTerms = pool.map((t) => termsOf(t));
  const avg = docsTerms.reduce((s, t) => s + t.length, 0) / pool.length;
  const df = new Map<string, number>();
  for (const terms of docsTerms) for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  return (query: string, key: number) => {
    const terms = docsTerms[key]!;
    let s = 0;
    for (const t of new Set(termsOf(query))) {
      const tf = terms.filter((x) => x === t).length;
      if (tf === 0) continue;
      const n = df.get(t)!;
      const idf = Math.log(1 + (pool.length - n + 0.5) / (n + 0.5));
      s += (idf * (tf * 2.2)) / (tf + 1.2 * (0.25 + (0.75 * terms.length) / avg));
    }
    return s;
  };
}

let env: Awaited<ReturnType<typeof tempStore>>;
let ix: Bm25Index;
let texts: string[]; // by key
let bm25: (query: string, key: number) => number;
let seg: SegmentsVectorIndex; // chunk identity by key, to check the exclusion

beforeAll(async () => {
  env = await tempStore();
  const backend = new SegmentsBackend(env.store, { connectivity: 8, expansionAdd: 32, expansionSearch: 64 }, {}, true);
  for (const [i, part] of [points.slice(0, 300), points.slice(300)].entries()) {
    const w = await backend.open(`shard-${i}`, 3);
    await w.upsert(part);
    await w.close();
  }
  expect(await backend.seal({})).toBe(points.length);
  ix = (await backend.openBm25Searcher()) as Bm25Index;
  texts = await ix.texts(Array.from({ length: ix.size }, (_, k) => k));
  bm25 = reference(texts);
  seg = await openSegmentsIndex(env.store, { exact: true });
});
afterAll(async () => {
  await ix?.close();
  await seg?.close();
  await env?.cleanup();
});

const queryDocs = [3, 17, 42, 66];
const queryOf = (d: number) => points.find((p) => p.docId === docs[d]!.id)!;

test('scores are BM25 by its definition; the list is every chunk sharing a term, ranked, ties by key, the query doc excluded', async () => {
  for (const d of queryDocs) {
    const q = queryOf(d);
    const [hits] = await ix.search([bm25Query(q.text)], ix.size, q.docId);
    const wantKeys = texts
      .map((_, key) => ({ key, score: bm25(q.text, key) }))
      .filter((h) => h.score > 0 && seg.refOf(h.key, 0).docId !== q.docId)
      .sort((a, b) => b.score - a.score || a.key - b.key);
    expect(hits.length).toBe(wantKeys.length);
    expect(wantKeys.length).toBeGreaterThan(100);
    hits.forEach((h, i) => {
      expect(h.score).toBeCloseTo(wantKeys[i]!.score, 4);
      expect(h.docId).not.toBe(q.docId);
    });
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score > hits[i]!.score || hits[i - 1]!.key < hits[i]!.key).toBe(true);
  }
});

test('every hit shares a term with its query chunk, and the top hits share many', async () => {
  for (const d of queryDocs) {
    const q = queryOf(d);
    const [hits] = await ix.search([bm25Query(q.text)], 20, q.docId);
    expect(hits).toHaveLength(20);
    const own = new Set(termsOf(q.text));
    const got = await ix.texts(hits.map((h) => h.key));
    const shared = got.map((t) => new Set(termsOf(t).filter((x) => own.has(x))).size);
    for (const n of shared) expect(n).toBeGreaterThan(0);
    expect(shared[0]!).toBeGreaterThan(5);
  }
});

test('hits carry the chunk identity and hash; scores() equals the search score; limit and batches', async () => {
  const q = queryOf(17);
  const query = bm25Query(q.text);
  const [hits] = await ix.search([query], 30, q.docId);
  const byKey = await ix.texts(hits.map((h) => h.key));
  hits.forEach((h: Hit, i) => {
    const p = points.find((x) => x.docId === h.docId && x.chunk === h.chunk)!;
    expect(p.text).toBe(byKey[i]);
    expect(h.hash).toBe(p.hash);
  });
  expect(await ix.scores(query, [hits[5]!.key, hits[0]!.key])).toEqual([hits[5]!.score, hits[0]!.score]);
  const batch = await ix.search([query, bm25Query(queryOf(42).text)], 7, q.docId);
  expect(batch[0]).toEqual(hits.slice(0, 7));
  expect(await ix.search([query], 0, 'x')).toEqual([[]]);
  expect(await ix.search([bm25Query('zzqxv unseenterm')], 5, 'x')).toEqual([[]]);
});

test('sample() and texts() are the segments searcher’s (same keys, seeded)', async () => {
  const a = await ix.sample(10, new Rng(5));
  expect(a).toEqual(await ix.sample(10, new Rng(5)));
  expect(a.every((r) => r.key >= 0 && r.key < ix.size)).toBe(true);
});

test('the build is deterministic: rebuilding gives the same bytes', async () => {
  const first = JSON.parse(Buffer.from(await env.store.get(BM25_DESCRIPTOR_KEY)).toString('utf8'));
  const again = await buildBm25Index(env.store);
  expect(again.sha256).toBe(first.sha256);
  expect(again.postings).toBeGreaterThan(again.terms);
});

test('a missing or altered index is a clear error', async () => {
  const other = await tempStore();
  try {
    await writeSegment(other.store, 'a', points.slice(0, 5), 3);
    await expect(openBm25Index(other.store)).rejects.toThrow(/no BM25 index/);
  } finally {
    await other.cleanup();
  }
});
