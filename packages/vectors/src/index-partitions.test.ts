import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { partitionRanges, partitionSlices } from './index-partitions.js';
import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex } from './segments-index.js';
import { clusteredVectors, descriptorOf, pointsFor, saveReferenceGraph, sha256Of, tempStore, writeThreeSegments } from './test-support.js';

const params = { connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
const dim = 24;
const all = pointsFor(clusteredVectors(3000, dim, 30, 17), 6);
// Segment bounds 0, 1000, 2000, 3000; 800 keys per partition → 4 partitions cut at 750, 1500, 2250.
const partitionChunks = 800;

describe('partitionRanges / partitionSlices', () => {
  test('balanced contiguous ranges from n and the partition size alone', () => {
    expect(partitionRanges(0, 10)).toEqual([{ first: 0, count: 0 }]);
    expect(partitionRanges(10, 10)).toEqual([{ first: 0, count: 10 }]);
    expect(partitionRanges(11, 10)).toEqual([
      { first: 0, count: 5 },
      { first: 5, count: 6 },
    ]);
    expect(partitionRanges(3000, 800).map((r) => r.first)).toEqual([0, 750, 1500, 2250]);
    expect(() => partitionRanges(5, 0)).toThrow(/positive integer/);
  });

  test('segments are cut at partition bounds only; empty segments give no insert', () => {
    const segments = [
      { first: 0, count: 4 },
      { first: 4, count: 0 },
      { first: 4, count: 6 },
    ];
    expect(partitionSlices(segments, partitionRanges(10, 5))).toEqual([
      [
        { segment: 0, first: 0, count: 4 },
        { segment: 2, first: 4, count: 1 },
      ],
      [{ segment: 2, first: 5, count: 5 }],
    ]);
  });
});

describe('a partitioned index', () => {
  test('byte-identical files with 1 or 3 build threads; each graph equals one built by hand', async () => {
    const a = await tempStore();
    const b = await tempStore();
    try {
      await writeThreeSegments(a.store, all, dim);
      await writeThreeSegments(b.store, all, dim);
      const progress: number[] = [];
      await buildSegmentsIndex(a.store, { ...params, partitionChunks, threads: 1, onProgress: (d) => progress.push(d) });
      await buildSegmentsIndex(b.store, { ...params, partitionChunks, threads: 3 });
      expect(progress).toEqual([1, 2, 3]);
      const desc = await descriptorOf(a.store);
      expect(desc.partitions.map((p) => [p.first, p.count, p.file.name])).toEqual([
        [0, 750, 'hnsw-0.usearch'],
        [750, 750, 'hnsw-1.usearch'],
        [1500, 750, 'hnsw-2.usearch'],
        [2250, 750, 'hnsw-3.usearch'],
      ]);
      expect(await descriptorOf(b.store)).toEqual(desc);
      for (const name of [
        'hnsw-0.usearch',
        'hnsw-1.usearch',
        'hnsw-2.usearch',
        'hnsw-3.usearch',
        'vectors.f32',
        'chunks.bin',
        'texts.bin',
      ]) {
        expect(await sha256Of(b.store.localPath(`index/${name}`))).toBe(await sha256Of(a.store.localPath(`index/${name}`)));
      }
      // Partition 1 (keys 750..1499) by hand: one single-threaded insert per segment slice.
      saveReferenceGraph(
        all,
        dim,
        params,
        [
          [750, 1000],
          [1000, 1500],
        ],
        path.join(a.dir, 'reference.usearch'),
      );
      expect(await sha256Of(a.store.localPath('index/hnsw-1.usearch'))).toBe(await sha256Of(path.join(a.dir, 'reference.usearch')));
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  test('search merges every partition by exact score: near-exact recall, exact scores, global keys', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await writeThreeSegments(store, all, dim);
      await buildSegmentsIndex(store, { ...params, partitionChunks, threads: 2 });
      const ann = await openSegmentsIndex(store);
      const exact = await openSegmentsIndex(store, { exact: true });
      const queries = clusteredVectors(40, dim, 30, 18);
      const got = await ann.search(queries, 50, 'd3');
      const want = await exact.search(queries, 50, 'd3');
      let found = 0;
      for (let i = 0; i < queries.length; i++) {
        expect(got[i]).toHaveLength(50);
        const truth = new Map(want[i].map((h) => [h.key, h.score]));
        for (const h of got[i]) {
          expect(h.docId).not.toBe('d3');
          expect(h.docId).toBe(all[h.key].docId); // keys are global, whatever the partition
          if (truth.has(h.key)) {
            found++;
            expect(h.score).toBe(truth.get(h.key));
          }
        }
        // Best first, ties by key, across partitions.
        for (let j = 1; j < got[i].length; j++) {
          const [p, q] = [got[i][j - 1], got[i][j]];
          expect(p.score > q.score || (p.score === q.score && p.key < q.key)).toBe(true);
        }
      }
      expect(found / (50 * queries.length)).toBeGreaterThanOrEqual(0.95);
      await ann.close();
      await exact.close();
    } finally {
      await cleanup();
    }
  });

  test('a version 1 index (one graph in files.hnsw) still opens; an unknown version fails clearly', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await writeThreeSegments(store, all, dim);
      await buildSegmentsIndex(store, params);
      const v2 = await openSegmentsIndex(store);
      const queries = clusteredVectors(10, dim, 30, 19);
      const expected = await v2.search(queries, 20, 'd1');
      await v2.close();
      const desc = await descriptorOf(store);
      const { partitions, ...rest } = desc;
      const v1 = { ...rest, version: 1, files: { hnsw: partitions[0].file, ...desc.files } };
      await writeFile(store.localPath('index/index.json'), JSON.stringify(v1));
      const old = await openSegmentsIndex(store);
      expect(await old.search(queries, 20, 'd1')).toEqual(expected);
      await old.close();
      await writeFile(store.localPath('index/index.json'), JSON.stringify({ ...desc, version: 4 }));
      await expect(openSegmentsIndex(store)).rejects.toThrow(
        /index\/index\.json: unsupported format\/version \(nextlong-segments-index v4; .*rebuild the index/,
      );
      await writeFile(store.localPath('index/index.json'), JSON.stringify({ ...desc, partitions: [{ ...partitions[0], count: 5 }] }));
      await expect(openSegmentsIndex(store)).rejects.toThrow(/partitions hold 5 chunks, the descriptor says 3000/);
    } finally {
      await cleanup();
    }
  });
});
