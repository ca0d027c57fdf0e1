/** Helpers for this package's tests (excluded from the build): temp stores and embedding-like vectors. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng, textHash, type ChunkPoint, type ObjectStore } from '@nextlong/core';
import { FsObjectStore } from '@nextlong/storage';
import { Index, MetricKind, ScalarKind } from 'usearch';
import type { HnswParams, IndexDescriptor } from './index-layout.js';
import { writeSegment } from './segment-format.js';
import { graphRows, quantizeRows, SCALAR_KINDS, type VectorType } from './vector-types.js';

export async function tempStore(): Promise<{ store: FsObjectStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-vectors-'));
  return { store: new FsObjectStore(path.join(dir, 'out')), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The same store without `localPath`, like a remote (S3) store. */
export function remoteView(inner: FsObjectStore): ObjectStore {
  return {
    root: `remote:${inner.root}`,
    put: (k, b) => inner.put(k, b),
    get: (k) => inner.get(k),
    exists: (k) => inner.exists(k),
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
  };
}

function gaussian(rng: Rng): number {
  // Box-Muller; 1 - u keeps log() away from 0.
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/** `n` L2-normalized vectors around `clusters` random centres (embedding-like, not uniform). */
export function clusteredVectors(n: number, dim: number, clusters: number, seed: number, spread = 0.6): Float32Array[] {
  const rng = new Rng(seed);
  const centres = Array.from({ length: clusters }, () => normalize(Float32Array.from({ length: dim }, () => gaussian(rng))));
  return Array.from({ length: n }, () => {
    const c = centres[rng.int(clusters)];
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = c[j] + (spread / Math.sqrt(dim)) * gaussian(rng);
    return normalize(v);
  });
}

/** Chunk points for `vectors`: `perDoc` chunks per document, ids `d<ordinal>`. */
export function pointsFor(vectors: Float32Array[], perDoc: number, docPrefix = 'd'): ChunkPoint[] {
  return vectors.map((vector, i) => {
    const text = `chunk ${i} of ${docPrefix}${Math.floor(i / perDoc)}`;
    return { docId: `${docPrefix}${Math.floor(i / perDoc)}`, chunk: i % perDoc, text, hash: textHash(text), vector };
  });
}

/**
 * The reference graph of determinism tests: what a build must equal byte for byte — one
 * single-threaded insert per `[from, to)` key range of `points`, in order, then save to `file`.
 * With `type`, the graph of that stored type, fed the stored rows.
 */
export function saveReferenceGraph(
  points: ChunkPoint[],
  dim: number,
  params: HnswParams,
  ranges: number[][],
  file: string,
  type: VectorType = 'f32',
): void {
  const ref = new Index({
    dimensions: dim,
    metric: MetricKind.Cos,
    quantization: ScalarKind[SCALAR_KINDS[type]],
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: params.expansionSearch,
    multi: false,
  });
  for (const [from, to] of ranges) {
    const vectors = new Float32Array((to - from) * dim);
    points.slice(from, to).forEach((p, j) => vectors.set(p.vector, j * dim));
    ref.add(
      BigUint64Array.from({ length: to - from }, (_, j) => BigInt(from + j)),
      graphRows(quantizeRows(vectors, dim, type), type),
      1,
    );
  }
  ref.save(file);
}

/** Rows 0–999, 1000–1999 and 2000– of `all` as segments s0, s1, s2, written out of key order (s1 first). */
export async function writeThreeSegments(store: Parameters<typeof writeSegment>[0], all: ChunkPoint[], dim: number): Promise<void> {
  await writeSegment(store, 's1', all.slice(1000, 2000), dim);
  await writeSegment(store, 's0', all.slice(0, 1000), dim);
  await writeSegment(store, 's2', all.slice(2000), dim);
}

export async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** The index descriptor of a local store, as written. */
export async function descriptorOf(store: { localPath(k: string): string }): Promise<IndexDescriptor> {
  return JSON.parse(await readFile(store.localPath('index/index.json'), 'utf8')) as IndexDescriptor;
}
