import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { textHash, type ChunkPoint } from '@nextlong/core';
import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex, type SegmentsVectorIndex } from './segments-index.js';
import { writeSegment } from './segment-format.js';
import { clusteredVectors, normalize, pointsFor, remoteView, tempStore } from './test-support.js';

// The project's defaults (core config: hnswConnectivity, hnswExpansionAdd, hnswExpansionSearch).
const params = { connectivity: 16, expansionAdd: 128, expansionSearch: 256 };

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A small pool: doc "big" has 40 near-identical chunks, "dupN" docs share one vector, the rest are clustered. */
function smallPool(): { points: ChunkPoint[]; bigCentre: Float32Array; dupVector: Float32Array } {
  const dim = 16;
  const [bigCentre, dupVector] = clusteredVectors(2, dim, 2, 3);
  const near = clusteredVectors(40, dim, 1, 4, 0.05).map((v) => normalize(v.map((x, j) => x * 0.02 + bigCentre[j])));
  const mk = (docId: string, chunk: number, vector: Float32Array): ChunkPoint => {
    const text = `${docId}/${chunk} ✓ 中文`;
    return { docId, chunk, text, hash: textHash(text), vector };
  };
  const points = [
    ...pointsFor(clusteredVectors(400, dim, 8, 5), 4, 'p'),
    ...near.map((v, i) => mk('big', i, v)),
    ...Array.from({ length: 12 }, (_, i) => mk(`dup${i}`, 0, dupVector)),
  ];
  return { points, bigCentre, dupVector };
}

describe('SegmentsVectorIndex', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  let ix: SegmentsVectorIndex;
  let exact: SegmentsVectorIndex;
  const pool = smallPool();

  beforeAll(async () => {
    env = await tempStore();
    await writeSegment(env.store, 'a', pool.points.slice(0, 200), 16);
    await writeSegment(env.store, 'b', pool.points.slice(200), 16);
    await buildSegmentsIndex(env.store, params);
    ix = await openSegmentsIndex(env.store);
    exact = await openSegmentsIndex(env.store, { exact: true });
  });
  afterAll(async () => {
    await ix?.close();
    await exact?.close();
    await env?.cleanup();
  });

  test('excludes the given doc and still returns `limit` hits', async () => {
    expect(ix.size).toBe(pool.points.length);
    expect(ix.chunkCount('big')).toBe(40);
    for (const s of [ix, exact]) {
      const [withBig] = await s.search([pool.bigCentre], 30, 'none');
      expect(withBig.every((h) => h.docId === 'big')).toBe(true);
      const [hits] = await s.search([pool.bigCentre], 30, 'big');
      expect(hits).toHaveLength(30);
      expect(hits.some((h) => h.docId === 'big')).toBe(false);
    }
  });

  test('hits are ranked by descending exact score, ties by ascending key; HNSW agrees with exact here', async () => {
    const [hits] = await exact.search([pool.dupVector], 5, 'dup0');
    const dupKeys = hits.map((h) => h.key);
    expect(hits.map((h) => h.docId)).toEqual(['dup1', 'dup2', 'dup3', 'dup4', 'dup5']);
    expect(new Set(hits.map((h) => h.score)).size).toBe(1);
    expect(dupKeys).toEqual([...dupKeys].sort((a, b) => a - b));
    const [annHits] = await ix.search([pool.dupVector], 20, 'dup0');
    for (let i = 1; i < annHits.length; i++) {
      const [p, h] = [annHits[i - 1], annHits[i]];
      expect(p.score > h.score || (p.score === h.score && p.key < h.key)).toBe(true);
    }
    const [exactHits] = await exact.search([pool.dupVector], 20, 'dup0');
    expect(annHits).toEqual(exactHits);
  });

  test('hits carry doc id, chunk, hash and a score equal to scores() and to the dot product', async () => {
    const q = pool.points[7].vector;
    const [hits] = await ix.search([q], 10, 'nobody');
    expect(hits[0]).toMatchObject({ docId: pool.points[7].docId, chunk: pool.points[7].chunk, hash: pool.points[7].hash });
    const keys = hits.map((h) => h.key);
    expect(await ix.scores(q, keys)).toEqual(hits.map((h) => h.score));
    const texts = await ix.texts(keys);
    for (const [i, h] of hits.entries()) {
      const p = pool.points.find((pt) => pt.docId === h.docId && pt.chunk === h.chunk)!;
      expect(texts[i]).toBe(p.text);
      expect(h.hash).toBe(p.hash);
      expect(h.score).toBeCloseTo(dot(q, p.vector), 6);
    }
  });

  test('texts() and scores() follow the order of the keys asked for, repeats included', async () => {
    const keys = [5, 0, 5, ix.size - 1];
    const texts = await ix.texts(keys);
    expect(texts).toEqual(keys.map((k) => pool.points[k].text)); // keys follow segment order here
    const q = pool.points[3].vector;
    expect(await ix.scores(q, keys)).toEqual(keys.map((k) => dot(q, pool.points[k].vector)));
    await expect(ix.texts([ix.size])).rejects.toThrow(/out of range/);
  });

  test('search results do not depend on the number of search threads', async () => {
    const queries = clusteredVectors(50, 16, 8, 99);
    const multi = await openSegmentsIndex(env.store, { threads: 8 });
    try {
      expect(await multi.search(queries, 25, 'p3')).toEqual(await ix.search(queries, 25, 'p3'));
    } finally {
      await multi.close();
    }
  });

  test('a query typed array from another realm (vm context) searches like a local one', async () => {
    const q = pool.points[7].vector;
    const foreign = runInNewContext('new Float32Array(16)') as Float32Array;
    foreign.set(q);
    expect(foreign instanceof Float32Array).toBe(false);
    expect(await ix.search([foreign], 12, 'x')).toEqual(await ix.search([q], 12, 'x'));
  });

  test('vectors read on demand score and rank exactly as vectors held in memory', async () => {
    const saved = process.env.NEXTLONG_VECTORS_IN_MEMORY_MB;
    process.env.NEXTLONG_VECTORS_IN_MEMORY_MB = '0';
    const onDemand = await openSegmentsIndex(env.store);
    const onDemandExact = await openSegmentsIndex(env.store, { exact: true });
    if (saved === undefined) delete process.env.NEXTLONG_VECTORS_IN_MEMORY_MB;
    else process.env.NEXTLONG_VECTORS_IN_MEMORY_MB = saved;
    try {
      const queries = [pool.bigCentre, pool.dupVector, pool.points[7].vector];
      expect(await onDemand.search(queries, 60, 'p1')).toEqual(await ix.search(queries, 60, 'p1'));
      expect(await onDemandExact.search(queries, 60, 'p1')).toEqual(await exact.search(queries, 60, 'p1'));
      expect(await onDemand.scores(pool.dupVector, [0, 5, 450])).toEqual(await ix.scores(pool.dupVector, [0, 5, 450]));
    } finally {
      await onDemand.close();
      await onDemandExact.close();
    }
  });

  test('opens through a store without localPath via the cache dir', async () => {
    const cacheDir = path.join(env.dir, 'cache');
    const remote = await openSegmentsIndex(remoteView(env.store), { cacheDir });
    try {
      const queries = clusteredVectors(5, 16, 8, 11);
      expect(await remote.search(queries, 12, 'p0')).toEqual(await ix.search(queries, 12, 'p0'));
      expect(await remote.texts([1, 2])).toEqual(await ix.texts([1, 2]));
      const [sub] = await readdir(cacheDir);
      expect((await readdir(path.join(cacheDir, sub))).sort()).toEqual([
        'chunks.bin',
        'docs.jsonl',
        'hnsw.usearch',
        'texts.bin',
        'vectors.f32',
      ]);
    } finally {
      await remote.close();
    }
    // A second open reuses the downloaded files.
    const again = await openSegmentsIndex(remoteView(env.store), { cacheDir });
    expect(again.size).toBe(ix.size);
    await again.close();
  });

  test('edge cases: empty query list, limit 0, wrong dims, closed index', async () => {
    expect(await ix.search([], 5, 'x')).toEqual([]);
    expect(await ix.search([pool.dupVector], 0, 'x')).toEqual([[]]);
    await expect(ix.search([new Float32Array(3)], 5, 'x')).rejects.toThrow(/3 dims, the index has 16/);
    const s = await openSegmentsIndex(env.store);
    await s.close();
    await expect(s.search([pool.dupVector], 5, 'x')).rejects.toThrow(/closed/);
  });
});

describe('openSegmentsIndex', () => {
  test('a missing index says to run the embed and index stages first', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await expect(openSegmentsIndex(store)).rejects.toThrow(/index\/index\.json.*run the embed and index stages first/);
    } finally {
      await cleanup();
    }
  });

  test('an index of only empty chunks opens and finds nothing', async () => {
    const { store, cleanup } = await tempStore();
    try {
      const [v] = clusteredVectors(1, 8, 1, 1);
      await writeSegment(store, 's', [{ docId: 'a', chunk: 0, text: '', hash: 0, vector: v }], 8);
      await buildSegmentsIndex(store, params);
      const s = await openSegmentsIndex(store);
      expect(s.size).toBe(0);
      expect(await s.search([v], 10, 'a')).toEqual([[]]);
      await s.close();
    } finally {
      await cleanup();
    }
  });

  test('recall@10 of HNSW vs exact ≥ 0.95 on 20k clustered 64-d vectors', async () => {
    const { store, cleanup } = await tempStore();
    try {
      const dim = 64;
      const points = pointsFor(clusteredVectors(20000, dim, 200, 42), 5);
      for (let s = 0; s < 4; s++) await writeSegment(store, `part-${s}`, points.slice(s * 5000, (s + 1) * 5000), dim);
      await buildSegmentsIndex(store, params);
      const ann = await openSegmentsIndex(store);
      const exact = await openSegmentsIndex(store, { exact: true });
      const queries = clusteredVectors(300, dim, 200, 43);
      const got = await ann.search(queries, 10, 'd17');
      const want = await exact.search(queries, 10, 'd17');
      let found = 0;
      for (let i = 0; i < queries.length; i++) {
        const truth = new Set(want[i].map((h) => h.key));
        found += got[i].filter((h) => truth.has(h.key)).length;
      }
      const recall = found / (10 * queries.length);
      expect(recall).toBeGreaterThanOrEqual(0.95);
      await ann.close();
      await exact.close();
    } finally {
      await cleanup();
    }
  });
});
