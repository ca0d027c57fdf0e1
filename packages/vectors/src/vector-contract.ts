/**
 * The contract every vector backend's searcher keeps (DESIGN §3.3, §10): one suite, run
 * against the segments index always and against Qdrant when a server is at hand. Test-only
 * (imports @jest/globals); not exported from the package index.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Rng, textHash, type ChunkPoint, type Hit, type VectorSearcher } from '@nextlong/core';

export const CONTRACT_DIM = 24;

export interface ContractBackend {
  searcher: VectorSearcher;
  /** Closes the searcher and removes whatever the factory made. */
  close(): Promise<void>;
}

/** Indexes `points` (the write side: upsert or segments + build) and opens a searcher on them. */
export type ContractFactory = (points: ChunkPoint[], dim: number) => Promise<ContractBackend>;

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  return v.map((x) => x * inv);
}

function point(docId: string, chunk: number, text: string, vector: Float32Array): ChunkPoint {
  return { docId, chunk, text, hash: textHash(text), vector };
}

/**
 * The contract's pool (seeded): 60 documents × 5 chunks around 6 centres; 6 "twin" documents
 * whose one chunk has the same vector (score ties); one empty-text chunk (never indexed).
 */
export function contractPoints(dim = CONTRACT_DIM): ChunkPoint[] {
  const rng = new Rng(20250117);
  const centres = Array.from({ length: 6 }, () => unit(Float32Array.from({ length: dim }, () => gaussian(rng))));
  const points: ChunkPoint[] = [];
  for (let d = 0; d < 60; d++) {
    for (let c = 0; c < 5; c++) {
      const centre = centres[rng.int(centres.length)];
      const v = unit(centre.map((x) => x + (0.5 / Math.sqrt(dim)) * gaussian(rng)));
      points.push(point(`doc-${d}`, c, `chunk ${c} of doc-${d} — ✓ 中文 ${d * 5 + c}`, v));
    }
  }
  const twin = unit(Float32Array.from({ length: dim }, () => gaussian(rng)));
  for (let t = 0; t < 6; t++) points.push(point(`twin-${t}`, 0, `twin ${t}`, twin));
  points.push(point('empty-doc', 0, '', centres[0]));
  return points;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

function expectRanked(hits: Hit[]): void {
  for (let i = 1; i < hits.length; i++) {
    const [p, h] = [hits[i - 1], hits[i]];
    expect(p.score > h.score || (p.score === h.score && p.key < h.key)).toBe(true);
  }
  expect(new Set(hits.map((h) => h.key)).size).toBe(hits.length);
}

/**
 * Registers the contract tests for the backend `factory` builds. With `skip`, the suite is
 * registered as skipped and its name says why (visible in the test report).
 */
export function describeVectorContract(name: string, factory: ContractFactory, opts: { skip?: string } = {}): void {
  if (opts.skip) {
    describe.skip(`vector contract: ${name} (skipped: ${opts.skip})`, () => {
      test('contract', () => undefined);
    });
    return;
  }
  describe(`vector contract: ${name}`, () => {
    const points = contractPoints();
    const indexed = points.filter((p) => p.text !== '');
    const byId = new Map(points.map((p) => [`${p.docId}\u0000${p.chunk}`, p]));
    const pointOf = (h: Hit) => byId.get(`${h.docId}\u0000${h.chunk}`)!;
    const queries = [3, 57, 111, 190, 242, 299].map((i) => points[i]);
    let backend: ContractBackend;
    let s: VectorSearcher;

    beforeAll(async () => {
      backend = await factory(points, CONTRACT_DIM);
      s = backend.searcher;
    });
    afterAll(async () => {
      await backend?.close();
    });

    test('size counts the indexed chunks; empty-text chunks are not indexed', async () => {
      expect(s.size).toBe(indexed.length);
      const [all] = await s.search([points[points.length - 1].vector], indexed.length + 10, 'nobody');
      expect(all.some((h) => h.docId === 'empty-doc')).toBe(false);
    });

    test('a chunk finds itself first; excluding its document removes all of its chunks', async () => {
      for (const q of queries) {
        const [withSelf] = await s.search([q.vector], 10, 'nobody');
        expect(withSelf[0]).toMatchObject({ docId: q.docId, chunk: q.chunk, hash: q.hash });
        expect(withSelf[0].score).toBeCloseTo(1, 3);
        const [hits] = await s.search([q.vector], 60, q.docId);
        expect(hits).toHaveLength(60);
        expect(hits.some((h) => h.docId === q.docId)).toBe(false);
      }
    });

    test('hits are ranked by descending score, ties by ascending key, without duplicate keys', async () => {
      const lists = await s.search(
        queries.map((q) => q.vector),
        80,
        'doc-0',
      );
      for (const hits of lists) expectRanked(hits);
      const twin = points.find((p) => p.docId === 'twin-0')!;
      const [ties] = await s.search([twin.vector], 5, 'twin-0');
      expect(ties.map((h) => h.docId).sort()).toEqual(['twin-1', 'twin-2', 'twin-3', 'twin-4', 'twin-5']);
      expect(new Set(ties.map((h) => h.score)).size).toBe(1);
      expectRanked(ties);
    });

    test('limit is respected when enough points exist; a larger limit returns every eligible chunk once', async () => {
      for (const limit of [1, 7, 25]) {
        const lists = await s.search(
          queries.map((q) => q.vector),
          limit,
          'doc-1',
        );
        for (const hits of lists) expect(hits).toHaveLength(limit);
      }
      const [all] = await s.search([queries[0].vector], indexed.length + 50, 'doc-2');
      const eligible = indexed.filter((p) => p.docId !== 'doc-2');
      expect(all).toHaveLength(eligible.length);
      expectRanked(all);
    });

    test('a batch answers like its queries one by one', async () => {
      const batch = await s.search(
        queries.map((q) => q.vector),
        20,
        'doc-7',
      );
      expect(batch).toHaveLength(queries.length);
      for (const [i, q] of queries.entries()) expect((await s.search([q.vector], 20, 'doc-7'))[0]).toEqual(batch[i]);
    });

    test('hits carry the chunk identity, hash and cosine score; texts(keys) returns their texts in order', async () => {
      const q = queries[2];
      const [hits] = await s.search([q.vector], 30, 'nobody');
      for (const h of hits) {
        const p = pointOf(h);
        expect(p).toBeDefined();
        expect(h.hash).toBe(p.hash);
        expect(h.score).toBeCloseTo(cosine(q.vector, p.vector), 3);
      }
      const keys = [hits[4].key, hits[0].key, hits[4].key, hits[29].key];
      expect(await s.texts(keys)).toEqual([hits[4], hits[0], hits[4], hits[29]].map((h) => pointOf(h).text));
      expect(await s.texts([])).toEqual([]);
    });

    test('scores(query, keys) equals the search score of each key, in the order asked (repeats included)', async () => {
      const q = queries[4];
      const [hits] = await s.search([q.vector], 40, 'nobody');
      const keys = [hits[7].key, hits[0].key, hits[7].key, hits[39].key];
      const want = [hits[7], hits[0], hits[7], hits[39]].map((h) => h.score);
      const got = await s.scores(q.vector, keys);
      expect(got).toHaveLength(4);
      got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 5));
      expect(await s.scores(q.vector, [])).toEqual([]);
    });

    test('sample(count, rng): indexed chunks, seeded (same rng state, same chunks), usable by texts() and scores()', async () => {
      const draw = () => s.sample(40, new Rng('contract-sample'));
      const a = await draw();
      const b = await draw();
      expect(a).toHaveLength(40);
      expect(a.map((r) => [r.docId, r.chunk, r.key])).toEqual(b.map((r) => [r.docId, r.chunk, r.key]));
      for (const r of a) {
        const p = byId.get(`${r.docId}\u0000${r.chunk}`);
        expect(p && p.text !== '').toBe(true);
        expect(r.hash).toBe(p!.hash);
      }
      // many documents, not one point drawn over and over
      expect(new Set(a.map((r) => r.docId)).size).toBeGreaterThan(15);
      expect(await s.texts(a.slice(0, 5).map((r) => r.key))).toEqual(a.slice(0, 5).map((r) => byId.get(`${r.docId}\u0000${r.chunk}`)!.text));
      const q = queries[1];
      const scores = await s.scores(q.vector, a.map((r) => r.key));
      scores.forEach((x, i) => expect(x).toBeCloseTo(cosine(q.vector, byId.get(`${a[i].docId}\u0000${a[i].chunk}`)!.vector), 4));
      expect(await s.sample(0, new Rng(1))).toEqual([]);
    });

    test('edge cases: no queries, limit 0', async () => {
      expect(await s.search([], 5, 'x')).toEqual([]);
      expect(await s.search([queries[0].vector], 0, 'x')).toEqual([[]]);
    });
  });
}
