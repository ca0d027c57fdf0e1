import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { textHash } from '@nextlong/core';
import { INDEX_FILE_NAMES, type IndexDescriptor } from './index-layout.js';
import { buildSegmentsIndex } from './segments-build.js';
import { writeSegment } from './segment-format.js';
import { clusteredVectors, pointsFor, remoteView, saveReferenceGraph, tempStore } from './test-support.js';

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
  const graphs = (JSON.parse(out['index.json']) as IndexDescriptor).partitions.map((p) => p.file.name);
  for (const name of [...Object.values(INDEX_FILE_NAMES), ...graphs]) {
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
      expect(desc.version).toBe(2);
      expect(desc.partitions).toEqual([{ first: 0, count: 3000, file: { name: 'hnsw.usearch', bytes: Number(bytes), sha256 } }]);
      // Nothing of the staging folder is left behind.
      const keys: string[] = [];
      for await (const k of a.store.list('index/')) keys.push(k);
      expect(keys.filter((k) => !k.startsWith('index/segments/')).sort()).toEqual(
        ['index/index.json', 'index/hnsw.usearch', ...Object.values(INDEX_FILE_NAMES).map((n) => `index/${n}`)].sort(),
      );
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  test('the graph built in the worker thread is byte-identical to one built on the main thread', async () => {
    const { store, dir, cleanup } = await tempStore();
    try {
      await writeFixture(store);
      await buildSegmentsIndex(store, params);
      // The reference: what the build did on the caller's thread before — one single-threaded
      // insert per segment, in key order (s0, s1, s2), then save.
      saveReferenceGraph(
        all,
        dim,
        params,
        [
          [0, 1000],
          [1000, 2000],
          [2000, 3000],
        ],
        path.join(dir, 'reference.usearch'),
      );
      const sha = async (f: string) =>
        createHash('sha256')
          .update(await readFile(f))
          .digest('hex');
      expect(await sha(store.localPath('index/hnsw.usearch'))).toBe(await sha(path.join(dir, 'reference.usearch')));
    } finally {
      await cleanup();
    }
  });

  test('an abort stops the build: it rejects with the reason, publishes nothing and leaves no scratch folder', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await writeFixture(store);
      const ac = new AbortController();
      const reason = new Error('worker shutting down');
      const done: number[] = [];
      const build = buildSegmentsIndex(store, {
        ...params,
        signal: ac.signal,
        onProgress: (d) => {
          done.push(d);
          ac.abort(reason);
        },
      });
      await expect(build).rejects.toBe(reason);
      expect(done).toEqual([1]);
      expect(await store.exists('index/index.json')).toBe(false);
      expect(await store.exists('index/hnsw.usearch')).toBe(false);
      // the scratch folder goes once the build thread has exited
      const scratch = async () => (await readdir(store.localPath('index'))).filter((n) => n.includes('.tmp-build-'));
      for (let i = 0; i < 100 && (await scratch()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await scratch()).toEqual([]);
      // an aborted signal fails a new build at once
      await expect(buildSegmentsIndex(store, { ...params, signal: ac.signal })).rejects.toBe(reason);
    } finally {
      await cleanup();
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
