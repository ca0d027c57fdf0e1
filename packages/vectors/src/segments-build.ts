import { open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import type { ObjectStore } from '@nextlong/core';
import { HnswBuildWorker } from './hnsw-build-worker.js';
import {
  ChunkTableBuilder,
  INDEX_DESCRIPTOR_KEY,
  INDEX_DIR,
  INDEX_FILE_NAMES,
  INDEX_FILE_ROLES,
  INDEX_VERSION,
  INDEX_VERSION_F32,
  encodeChunkTable,
  partitionFileName,
  vectorsFileName,
  type HnswParams,
  type IndexDescriptor,
  type IndexFileInfo,
  type IndexFileRole,
  type IndexPartition,
} from './index-layout.js';
import { partitionRanges, partitionSlices, type InsertSlice, type KeyRange } from './index-partitions.js';
import { Staging, sha256File } from './local-files.js';
import { SEGMENTS_PREFIX, SEGMENT_SUFFIX, decodeSegment, type Segment } from './segment-format.js';
import { VECTOR_BYTES, graphRows, quantizeRows, storedView, type StoredRows, type VectorType } from './vector-types.js';

/**
 * Default partition size (config `indexPartitionChunks`): the ANN bench's 124k-chunk pool stays one
 * graph, a 16× scale-bench pool (224k) is two; every query searches every partition.
 */
export const DEFAULT_PARTITION_CHUNKS = 131_072;

export interface BuildSegmentsOptions extends HnswParams {
  /** Most keys per HNSW partition (default DEFAULT_PARTITION_CHUNKS); decides the files. */
  partitionChunks?: number;
  /** Stored type of the vectors and the graphs (vector-types.ts; default f32); decides the files. */
  vectorType?: VectorType;
  /** Partitions built at once, one thread each (default: the CPUs available); never changes the files. */
  threads?: number;
  /** Called as segments are fully inserted: (segments done, segments total). */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** Scratch folder when the store is not local (default: the OS temp folder). */
  workDir?: string;
}

export interface BuildSegmentsResult {
  chunks: number;
  docs: number;
  dim: number;
}

/** Open output files of a build in progress; texts and vectors are appended segment by segment. */
interface Outputs {
  texts: FileHandle;
  vectors: FileHandle;
  docs: FileHandle;
}

/**
 * Builds the ANN index from every segment under `index/segments/`. Determinism (DESIGN §3.4):
 * segments are read in sorted key order and keys are assigned 0..n-1 in that order; the keys are
 * split into partitions by n alone (index-partitions.ts), and each partition's graph is built by
 * one thread with one single-threaded insert per segment slice, in key order — so the same
 * segments always give byte-identical files, whatever `threads` is. Graphs live in worker threads
 * (hnsw-build-worker.ts): inserts and saves never block this thread's event loop. An abort
 * rejects at once; each thread stops after the native call it is in.
 */
export async function buildSegmentsIndex(store: ObjectStore, opts: BuildSegmentsOptions): Promise<BuildSegmentsResult> {
  const { signal } = opts;
  const type = opts.vectorType ?? 'f32';
  const names = { ...INDEX_FILE_NAMES, vectors: vectorsFileName(type) };
  const params: HnswParams = { connectivity: opts.connectivity, expansionAdd: opts.expansionAdd, expansionSearch: opts.expansionSearch };
  const keys = await listSegmentKeys(store, signal);
  if (keys.length === 0) throw new Error(`no segments under ${store.root}/${SEGMENTS_PREFIX}: run the embed stage first`);
  // An old descriptor must not vouch for files this build is about to replace.
  await store.delete(INDEX_DESCRIPTOR_KEY, signal);

  const staging = await Staging.create(store, INDEX_DIR, opts.workDir);
  const graphs = new Set<HnswBuildWorker>();
  let finished = false;
  try {
    const out: Outputs = {
      texts: await open(staging.path(names.texts), 'w'),
      vectors: await open(staging.path(names.vectors), 'w'),
      docs: await open(staging.path(names.docs), 'w'),
    };
    let built: Awaited<ReturnType<typeof readSegments>>;
    try {
      built = await readSegments(store, keys, out, type, signal);
    } finally {
      await Promise.all([out.texts.close(), out.vectors.close(), out.docs.close()]);
    }
    const { table, docs, dim, segments } = built;
    await writeFile(staging.path(names.chunks), encodeChunkTable(table.table()));
    const ranges = partitionRanges(table.count, opts.partitionChunks ?? DEFAULT_PARTITION_CHUNKS);
    const plan: PartitionPlan = { ranges, slices: partitionSlices(segments, ranges), dim, params, staging, type, vectorsFile: names.vectors };
    await buildGraphs(plan, graphs, opts, keys.length);

    const files = {} as Record<IndexFileRole, IndexFileInfo>;
    for (const role of INDEX_FILE_ROLES) files[role] = await publish(staging, names[role], signal);
    const partitions: IndexPartition[] = [];
    for (const [p, r] of ranges.entries()) partitions.push({ ...r, file: await publish(staging, partitionFileName(p, ranges.length), signal) });
    // An f32 index is written exactly as before types existed (version 2, no vectorType).
    const desc: IndexDescriptor = {
      format: 'nextlong-segments-index',
      version: type === 'f32' ? INDEX_VERSION_F32 : INDEX_VERSION,
      metric: 'cos',
      dim,
      ...(type === 'f32' ? {} : { vectorType: type }),
      chunks: table.count,
      docs,
      segments: keys.length,
      params,
      files,
      partitions,
    };
    // Written last: a reader that sees the descriptor sees a complete index.
    await store.put(INDEX_DESCRIPTOR_KEY, JSON.stringify(desc, null, 2) + '\n', signal);
    finished = true;
    return { chunks: table.count, docs, dim };
  } finally {
    // After a failure or an abort a thread may still be inside one insert: return at once and
    // remove the scratch folder once all have exited (they could otherwise write into it meanwhile).
    const cleanup = Promise.all([...graphs].map((g) => g.terminate())).then(() => staging.dispose());
    if (finished) await cleanup;
    else cleanup.catch(() => {});
  }
}

async function publish(staging: Staging, name: string, signal?: AbortSignal): Promise<IndexFileInfo> {
  signal?.throwIfAborted();
  const info = { name, ...(await sha256File(staging.path(name))) };
  await staging.publish(name, INDEX_DIR + name, signal);
  return info;
}

async function listSegmentKeys(store: ObjectStore, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(SEGMENTS_PREFIX, signal)) if (key.endsWith(SEGMENT_SUFFIX)) keys.push(key);
  // Code-unit order, independent of the store's listing order and of the locale.
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Reads every segment in order and appends its kept rows to the staged files; returns the chunk
 * table and each segment's key range (count 0 when it had no kept rows).
 */
async function readSegments(store: ObjectStore, keys: string[], out: Outputs, type: VectorType, signal?: AbortSignal) {
  let dim = 0;
  let dimFrom = -1; // the first non-empty segment decides the index's dim
  const table = new ChunkTableBuilder();
  const docOrds = new Map<string, number>();
  const segments: KeyRange[] = [];
  let textBytes = 0;
  for (let s = 0; s < keys.length; s++) {
    signal?.throwIfAborted();
    const seg = decodeSegment(await store.get(keys[s], signal), `${store.root}/${keys[s]}`);
    if (s === 0) dim = seg.dim;
    if (seg.count > 0) {
      if (dimFrom < 0) [dim, dimFrom] = [seg.dim, s];
      else if (seg.dim !== dim) throw new Error(`segment ${store.root}/${keys[s]}: dim ${seg.dim} differs from ${dim} of the segments before it`);
    }
    const keep = keptRows(seg);
    segments.push({ first: table.count, count: keep.length });
    if (keep.length === 0) continue;
    const texts: Uint8Array[] = [];
    const newDocs: string[] = [];
    for (const i of keep) {
      let ord = docOrds.get(seg.docIds[i]);
      if (ord === undefined) {
        ord = docOrds.size;
        docOrds.set(seg.docIds[i], ord);
        newDocs.push(JSON.stringify(seg.docIds[i]) + '\n');
      }
      table.push(seg.hashes[i], textBytes, ord, seg.chunks[i], seg.texts[i].length);
      textBytes += seg.texts[i].length;
      texts.push(seg.texts[i]);
    }
    const vectors = quantizeRows(keep.length === seg.count ? seg.vectors : gatherRows(seg.vectors, seg.dim, keep), seg.dim, type);
    // writeFile on a handle appends at the current position and loops until all is written.
    await out.vectors.writeFile(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
    await out.texts.writeFile(Buffer.concat(texts));
    if (newDocs.length > 0) await out.docs.writeFile(newDocs.join(''));
  }
  return { table, docs: docOrds.size, dim, segments };
}

interface PartitionPlan {
  ranges: KeyRange[];
  slices: InsertSlice[][];
  dim: number;
  params: HnswParams;
  staging: Staging;
  type: VectorType;
  /** Name of the staged vectors file (of `type`). */
  vectorsFile: string;
}

/**
 * Builds every partition's graph, up to `threads` at once, reading its rows back from the staged
 * vectors file. The first failure (or the caller's abort) stops every thread.
 */
async function buildGraphs(plan: PartitionPlan, graphs: Set<HnswBuildWorker>, opts: BuildSegmentsOptions, segmentCount: number) {
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal!.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Progress in segments, as the embed stage counts them: a segment is done when all its slices are.
  const left = new Array<number>(segmentCount).fill(0);
  for (const list of plan.slices) for (const sl of list) left[sl.segment]++;
  let done = left.filter((n) => n === 0).length;
  if (done > 0) opts.onProgress?.(done, segmentCount);
  const inserted = (segment: number) => {
    if (--left[segment] === 0) opts.onProgress?.(++done, segmentCount);
  };
  const vectors = await open(plan.staging.path(plan.vectorsFile), 'r');
  try {
    let next = 0;
    const lane = async () => {
      while (next < plan.ranges.length) {
        const p = next++;
        const graph = await HnswBuildWorker.open(plan.dim, plan.params, stop.signal, plan.type);
        graphs.add(graph);
        for (const sl of plan.slices[p]) {
          const rows = graphRows(await readRows(vectors, sl, plan.dim, plan.type), plan.type);
          stop.signal.throwIfAborted();
          await graph.add(BigUint64Array.from({ length: sl.count }, (_, j) => BigInt(sl.first + j)), rows);
          inserted(sl.segment);
        }
        await graph.save(plan.staging.path(partitionFileName(p, plan.ranges.length)));
        graphs.delete(graph);
        await graph.terminate();
      }
    };
    const threads = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), plan.ranges.length));
    await Promise.all(
      Array.from({ length: threads }, () =>
        lane().catch((err: unknown) => {
          stop.abort(err);
          throw err;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await vectors.close();
  }
}

/** Row-major stored vectors of keys `r.first..` from the staged vectors file (a fresh buffer). */
async function readRows(fh: FileHandle, r: KeyRange, dim: number, type: VectorType): Promise<StoredRows> {
  const width = VECTOR_BYTES[type];
  const bytes = new Uint8Array(r.count * dim * width);
  for (let got = 0; got < bytes.length;) {
    const { bytesRead } = await fh.read(bytes, got, bytes.length - got, r.first * dim * width + got);
    if (bytesRead === 0) throw new Error('staged vectors file ended early');
    got += bytesRead;
  }
  return storedView(type, bytes.buffer, 0, r.count * dim);
}

/** Rows to index: empty-text chunks are not indexed (DESIGN §3.1). */
function keptRows(seg: Segment): number[] {
  const keep: number[] = [];
  for (let i = 0; i < seg.count; i++) if (seg.texts[i].length > 0) keep.push(i);
  return keep;
}

function gatherRows(vectors: Float32Array, dim: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, j) => out.set(vectors.subarray(r * dim, (r + 1) * dim), j * dim));
  return out;
}
