import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '@nextlong/core';
import { S3ObjectStore } from '@nextlong/storage';
import { startS3rver, type S3rverHandle } from '@nextlong/testing';
import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex } from './segments-index.js';
import { writeSegment } from './segment-format.js';
import { clusteredVectors, pointsFor, tempStore } from './test-support.js';

const params = { connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
const dim = 16;

/** The S3 store, counting the index files it serves (graphs, vectors, texts...). */
function counting(inner: S3ObjectStore) {
  const reads = new Map<string, number>();
  const count = (k: string) => reads.set(k, (reads.get(k) ?? 0) + 1);
  const store: ObjectStore & { getStream(k: string, s?: AbortSignal): ReturnType<S3ObjectStore['getStream']> } = {
    root: inner.root,
    put: (k, b, s) => inner.put(k, b, s),
    get: (k, s) => (count(k), inner.get(k, s)),
    getStream: (k, s) => (count(k), inner.getStream(k, s)),
    exists: (k, s) => inner.exists(k, s),
    list: (p, s) => inner.list(p, s),
    delete: (k, s) => inner.delete(k, s),
  };
  return { store, reads };
}

describe('the host index cache of a remote store', () => {
  let s3: S3rverHandle;
  let s3store: S3ObjectStore;
  let env: Awaited<ReturnType<typeof tempStore>>;
  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['index-cache'] });
    s3store = new S3ObjectStore('s3://index-cache/run', { env: s3.env });
    env = await tempStore();
    const points = pointsFor(clusteredVectors(1200, dim, 12, 5), 4);
    await writeSegment(s3store, 'a', points.slice(0, 700), dim);
    await writeSegment(s3store, 'b', points.slice(700), dim);
    // Two partitions: every graph file goes through the cache too.
    await buildSegmentsIndex(s3store, { ...params, partitionChunks: 700, workDir: env.dir });
  });
  afterAll(async () => {
    s3store?.close();
    await s3?.stop();
    await env?.cleanup();
  });

  test('3 concurrent openers download each file once and all answer like a local copy', async () => {
    const cacheDir = path.join(env.dir, 'cache');
    const { store, reads } = counting(s3store);
    const openers = await Promise.all([0, 1, 2].map(() => openSegmentsIndex(store, { cacheDir })));
    try {
      const files = ['chunks.bin', 'docs.jsonl', 'hnsw-0.usearch', 'hnsw-1.usearch', 'texts.bin', 'vectors.f32'];
      expect(Object.fromEntries([...reads].filter(([k]) => !k.endsWith('index.json')))).toEqual(Object.fromEntries(files.map((f) => [`index/${f}`, 1])));
      const [sub] = await readdir(cacheDir);
      expect((await readdir(path.join(cacheDir, sub))).sort()).toEqual(files); // no temp or lock file left
      const queries = clusteredVectors(8, dim, 12, 6);
      const first = await openers[0].search(queries, 15, 'd2');
      expect(first.every((hits) => hits.length === 15)).toBe(true);
      for (const o of openers.slice(1)) expect(await o.search(queries, 15, 'd2')).toEqual(first);
      expect(await openers[2].texts([0, 1199])).toEqual(['chunk 0 of d0', 'chunk 1199 of d299']);
    } finally {
      await Promise.all(openers.map((o) => o.close()));
    }
  });

  test('a lock left by a process that is gone is taken over', async () => {
    const cacheDir = path.join(env.dir, 'cache-stale');
    const { store } = counting(s3store);
    const first = await openSegmentsIndex(store, { cacheDir });
    await first.close();
    const [sub] = await readdir(cacheDir);
    // A crashed downloader: its lock (a pid that no longer runs) and no finished file.
    const dir = path.join(cacheDir, sub);
    await rm(path.join(dir, 'texts.bin'));
    await writeFile(path.join(dir, 'texts.bin.lock'), '2147483646\n');
    const again = await openSegmentsIndex(store, { cacheDir });
    expect(await again.texts([5])).toEqual(['chunk 5 of d1']);
    await again.close();
  });
});
