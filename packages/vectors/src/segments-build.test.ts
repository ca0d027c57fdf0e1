import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { textHash } from '@nextlong/core';
import { INDEX_FILE_NAMES } from './index-layout.js';
import { buildSegmentsIndex } from './segments-build.js';
import { writeSegment } from './segment-format.js';
import { clusteredVectors, pointsFor, remoteView, tempStore } from './test-support.js';

const params = { connectivity: 16, expansionAdd: 64, expansionSearch: 32 };
const dim = 32;
const all = pointsFor(clusteredVectors(3000, dim, 20, 7), 10);

/** Writes the fixture's segments (in a scrambled order: the build must not care). */
async function writeFixture(store: Parameters<typeof writeSegment>[0]) {
  await writeSegment(store, 's2', all.slice(2000), dim);
  await writeSegment(store, 's0', all.slice(0, 1000), dim);
  await writeSegment(store, 's1', all.slice(1000, 2000), dim);
}

/** Every index file by its sha256 (jest's deep equality on large Buffers is slow), plus the descriptor text. */
async function indexFiles(store: { localPath(k: string): string }) {
  const out: Record<string, string> = { 'index.json': await readFile(store.localPath('index/index.json'), 'utf8') };
  for (const name of Object.values(INDEX_FILE_NAMES)) {
    const bytes = await readFile(store.localPath(`index/${name}`));
    out[name] = `${bytes.length} ${createHash('sha256').update(bytes).digest('hex')}`;
  }
  return out;
}

describe('buildSegmentsIndex', () => {
  test('same segments → byte-identical index files, wherever and however often built', async () => {
    const a = await tempStore();
    const b = await tempStore();
    try {
      await writeFixture(a.store);
      await writeFixture(b.store);
      const progress: Array<[number, number]> = [];
      const res = await buildSegmentsIndex(a.store, { ...params, onProgress: (d, t) => progress.push([d, t]) });
      expect(res).toEqual({ chunks: 3000, docs: 300, dim });
      expect(progress).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
      // Built through a store without localPath: staged in a temp folder and uploaded.
      await buildSegmentsIndex(remoteView(b.store), params);
      const first = await indexFiles(a.store);
      expect(await indexFiles(b.store)).toEqual(first);
      await buildSegmentsIndex(a.store, params);
      expect(await indexFiles(a.store)).toEqual(first);
      const desc = JSON.parse(first['index.json']);
      expect(desc).toMatchObject({ dim, chunks: 3000, docs: 300, segments: 3, metric: 'cos', params });
      const [bytes, sha256] = first['hnsw.usearch'].split(' ');
      expect(desc.files.hnsw).toEqual({ name: 'hnsw.usearch', bytes: Number(bytes), sha256 });
      // Nothing of the staging folder is left behind.
      const keys: string[] = [];
      for await (const k of a.store.list('index/')) keys.push(k);
      expect(keys.filter((k) => !k.startsWith('index/segments/')).sort()).toEqual(
        ['index/index.json', ...Object.values(INDEX_FILE_NAMES).map((n) => `index/${n}`)].sort(),
      );
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  test('empty-text chunks are not indexed; a doc with only empty chunks is not listed', async () => {
    const { store, cleanup } = await tempStore();
    try {
      const [v0, v1, v2] = clusteredVectors(3, 4, 1, 1);
      await writeSegment(
        store,
        'only',
        [
          { docId: 'a', chunk: 0, text: '', hash: textHash(''), vector: v0 },
          { docId: 'a', chunk: 1, text: '日本語 🎌', hash: textHash('日本語 🎌'), vector: v1 },
          { docId: 'b', chunk: 0, text: '', hash: textHash(''), vector: v2 },
        ],
        4,
      );
      await writeSegment(store, 'zero', [], 4);
      expect(await buildSegmentsIndex(store, params)).toEqual({ chunks: 1, docs: 1, dim: 4 });
      expect((await readFile(store.localPath('index/docs.jsonl'), 'utf8')).trim()).toBe('"a"');
      expect(await readFile(store.localPath('index/texts.bin'), 'utf8')).toBe('日本語 🎌');
    } finally {
      await cleanup();
    }
  });

  test('clear errors: no segments, mismatched dims', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await expect(buildSegmentsIndex(store, params)).rejects.toThrow(/no segments under .*index\/segments\/: run the embed stage first/);
      await writeSegment(store, 'a', all.slice(0, 2), dim);
      await writeSegment(store, 'b', pointsFor(clusteredVectors(2, 8, 1, 1), 1), 8);
      await expect(buildSegmentsIndex(store, params)).rejects.toThrow(/segment .*index\/segments\/b\.seg: dim 8 differs from 32/);
      expect(await store.exists('index/index.json')).toBe(false);
    } finally {
      await cleanup();
    }
  });
});
