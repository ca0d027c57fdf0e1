import { open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ObjectStore } from '@nextlong/core';
import { HnswBuildWorker } from './hnsw-build-worker.js';
import {
  ChunkTableBuilder,
  INDEX_DESCRIPTOR_KEY,
  INDEX_DIR,
  INDEX_FILE_NAMES,
  INDEX_FILE_ROLES,
  encodeChunkTable,
  indexKey,
  type HnswParams,
  type IndexDescriptor,
  type IndexFileInfo,
  type IndexFileRole,
} from './index-layout.js';
import { Staging, sha256File } from './local-files.js';
import { SEGMENTS_PREFIX, SEGMENT_SUFFIX, decodeSegment, type Segment } from './segment-format.js';

export interface BuildSegmentsOptions extends HnswParams {
  /** Called after each segment is added: (segments done, segments total). */
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
 * segments are read in sorted key order, keys are assigned 0..n-1 in that order, and usearch
 * inserts with one thread, one call per segment, so the same segments always give byte-identical
 * files. The graph lives in a worker thread (hnsw-build-worker.ts): inserts and the save never
 * block this thread's event loop, and the next segment is read while the previous one is inserted.
 * An abort rejects at once; the thread stops after the native call it is in.
 */
export async function buildSegmentsIndex(store: ObjectStore, opts: BuildSegmentsOptions): Promise<BuildSegmentsResult> {
  const { signal } = opts;
  const params: HnswParams = { connectivity: opts.connectivity, expansionAdd: opts.expansionAdd, expansionSearch: opts.expansionSearch };
  const keys = await listSegmentKeys(store, signal);
  if (keys.length === 0) throw new Error(`no segments under ${store.root}/${SEGMENTS_PREFIX}: run the embed stage first`);
  // An old descriptor must not vouch for files this build is about to replace.
  await store.delete(INDEX_DESCRIPTOR_KEY, signal);

  const staging = await Staging.create(store, INDEX_DIR, opts.workDir);
  const graph: Graph = {};
  let finished = false;
  try {
    const out: Outputs = {
      texts: await open(staging.path(INDEX_FILE_NAMES.texts), 'w'),
      vectors: await open(staging.path(INDEX_FILE_NAMES.vectors), 'w'),
      docs: await open(staging.path(INDEX_FILE_NAMES.docs), 'w'),
    };
    let built: Awaited<ReturnType<typeof addSegments>>;
    try {
      built = await addSegments(store, keys, params, out, graph, opts);
    } finally {
      await Promise.all([out.texts.close(), out.vectors.close(), out.docs.close()]);
    }
    const { table, docs, dim } = built;
    // Every segment empty: still a valid (empty) index, so synth reports "pool ran out".
    graph.worker ??= await HnswBuildWorker.open(dim, params, signal);
    await graph.worker.save(staging.path(INDEX_FILE_NAMES.hnsw));
    await writeFile(staging.path(INDEX_FILE_NAMES.chunks), encodeChunkTable(table.table()));

    const files = {} as Record<IndexFileRole, IndexFileInfo>;
    for (const role of INDEX_FILE_ROLES) {
      signal?.throwIfAborted();
      files[role] = { name: INDEX_FILE_NAMES[role], ...(await sha256File(staging.path(INDEX_FILE_NAMES[role]))) };
      await staging.publish(INDEX_FILE_NAMES[role], indexKey(role), signal);
    }
    const desc: IndexDescriptor = {
      format: 'nextlong-segments-index',
      version: 1,
      metric: 'cos',
      dim,
      chunks: table.count,
      docs,
      segments: keys.length,
      params,
      files,
    };
    // Written last: a reader that sees the descriptor sees a complete index.
    await store.put(INDEX_DESCRIPTOR_KEY, JSON.stringify(desc, null, 2) + '\n', signal);
    finished = true;
    return { chunks: table.count, docs, dim };
  } finally {
    // After a failure or an abort the thread may still be inside one insert: return at once and
    // remove the scratch folder once it has exited (it could otherwise write into it meanwhile).
    const cleanup = (graph.worker?.terminate() ?? Promise.resolve()).then(() => staging.dispose());
    if (finished) await cleanup;
    else cleanup.catch(() => {});
  }
}

async function listSegmentKeys(store: ObjectStore, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.list(SEGMENTS_PREFIX, signal)) if (key.endsWith(SEGMENT_SUFFIX)) keys.push(key);
  // Code-unit order, independent of the store's listing order and of the locale.
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The build's graph thread, started at the first non-empty segment (whose dim is the index's). */
interface Graph {
  worker?: HnswBuildWorker;
}

async function addSegments(store: ObjectStore, keys: string[], params: HnswParams, out: Outputs, graph: Graph, opts: BuildSegmentsOptions) {
  let dim = 0;
  const table = new ChunkTableBuilder();
  const docOrds = new Map<string, number>();
  let textBytes = 0;
  // The previous segment's insert (then its progress report), running while this one is read.
  let inserting: Promise<void> = Promise.resolve();
  for (let s = 0; s < keys.length; s++) {
    opts.signal?.throwIfAborted();
    const seg = decodeSegment(await store.get(keys[s], opts.signal), `${store.root}/${keys[s]}`);
    if (s === 0) dim = seg.dim;
    if (seg.count > 0) {
      if (graph.worker === undefined) graph.worker = await HnswBuildWorker.open((dim = seg.dim), params, opts.signal);
      else if (seg.dim !== dim)
        throw new Error(`segment ${store.root}/${keys[s]}: dim ${seg.dim} differs from ${dim} of the segments before it`);
    }
    const keep = keptRows(seg);
    let rows: { ids: BigUint64Array; vectors: Float32Array } | undefined;
    if (keep.length > 0) {
      const first = table.count;
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
      const vectors = keep.length === seg.count ? seg.vectors : gatherRows(seg.vectors, seg.dim, keep);
      rows = { ids: BigUint64Array.from({ length: keep.length }, (_, j) => BigInt(first + j)), vectors };
      // writeFile on a handle appends at the current position and loops until all is written.
      // Before the insert, which moves the vectors' buffer to the graph thread.
      await out.vectors.writeFile(new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
      await out.texts.writeFile(Buffer.concat(texts));
      if (newDocs.length > 0) await out.docs.writeFile(newDocs.join(''));
    }
    await inserting; // one insert at a time, in key order: the graph depends on the order
    const done = s + 1;
    inserting = (rows ? graph.worker!.add(rows.ids, rows.vectors) : Promise.resolve(0)).then(() => opts.onProgress?.(done, keys.length));
    inserting.catch(() => {}); // awaited in the next round or below; meanwhile not "unhandled"
  }
  await inserting;
  return { table, docs: docOrds.size, dim };
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
