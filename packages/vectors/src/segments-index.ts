import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Hit, ObjectStore, VectorSearcher } from '@nextlong/core';
import { Index, MetricKind, ScalarKind, type BatchMatches, type Matches } from 'usearch';
import {
  INDEX_DIR,
  INDEX_FILE_ROLES,
  decodeChunkTable,
  readDescriptor,
  type ChunkTable,
  type IndexDescriptor,
  type IndexFileRole,
} from './index-layout.js';
import { download, readWhole } from './local-files.js';
import { dotRow, exactTopK, rescore, type Ranked } from './scoring.js';
import { SLICE_BUDGET_MS, TimeSlicer } from './time-slices.js';

export interface OpenSegmentsOptions {
  /** Where a non-local store's index files are downloaded (default: `<os tmp>/nextlong-index-cache`). */
  cacheDir?: string;
  /** Brute-force search instead of HNSW (recall checks, small pools). */
  exact?: boolean;
  /** HNSW search beam (default: the value the index was built with). */
  expansionSearch?: number;
  /**
   * usearch threads per search batch (default 1, at most the CPUs available). Each query is
   * searched independently on a read-only graph, so results do not depend on it.
   */
  threads?: number;
  signal?: AbortSignal;
}

/** What the searcher holds in memory: everything but the texts and the (memory-mapped) graph. */
interface Loaded {
  desc: IndexDescriptor;
  vectors: Float32Array;
  table: ChunkTable;
  docIds: string[];
  texts: FileHandle;
  hnsw?: Index;
}

/** Opens the index built by `buildSegmentsIndex` in `store`. */
export async function openSegmentsIndex(store: ObjectStore, opts: OpenSegmentsOptions = {}): Promise<SegmentsVectorIndex> {
  const { desc, raw } = await readDescriptor(store, opts.signal);
  const files = await localFiles(store, desc, raw, opts);
  const where = (role: IndexFileRole) => `${store.root}/${INDEX_DIR}${desc.files[role].name}`;
  const vectors = new Float32Array(await readWhole(files.vectors, desc.files.vectors.bytes));
  if (vectors.length !== desc.chunks * desc.dim)
    throw new Error(`${where('vectors')}: ${vectors.length} floats, expected ${desc.chunks} × ${desc.dim}`);
  const table = decodeChunkTable(new Uint8Array(await readWhole(files.chunks, desc.files.chunks.bytes)), where('chunks'));
  if (table.count !== desc.chunks) throw new Error(`${where('chunks')}: ${table.count} rows, the descriptor says ${desc.chunks}`);
  const docIds = await readDocIds(files.docs);
  if (docIds.length !== desc.docs) throw new Error(`${where('docs')}: ${docIds.length} doc ids, the descriptor says ${desc.docs}`);
  if ((await stat(files.texts)).size !== desc.files.texts.bytes) throw new Error(`${where('texts')}: size differs from the descriptor`);
  let hnsw: Index | undefined;
  if (!opts.exact && desc.chunks > 0) {
    hnsw = new Index({
      dimensions: desc.dim,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
      connectivity: desc.params.connectivity,
      expansion_add: desc.params.expansionAdd,
      expansion_search: opts.expansionSearch ?? desc.params.expansionSearch,
      multi: false,
    });
    // view() memory-maps the graph: pages load on demand and are shared between processes.
    hnsw.view(files.hnsw);
    if (hnsw.size() !== desc.chunks) throw new Error(`${where('hnsw')}: ${hnsw.size()} vectors, the descriptor says ${desc.chunks}`);
  }
  const texts = await open(files.texts, 'r');
  // usearch keeps one search context per hardware thread; asking for more fails the search.
  const threads = Math.max(1, Math.min(opts.threads ?? 1, os.availableParallelism()));
  return new SegmentsVectorIndex({ desc, vectors, table, docIds, texts, hnsw }, threads);
}

/** Local paths of the index files: in place for a local store, else downloaded to the cache. */
async function localFiles(store: ObjectStore, desc: IndexDescriptor, raw: Uint8Array, opts: OpenSegmentsOptions) {
  const files = {} as Record<IndexFileRole, string>;
  if (store.localPath) {
    for (const role of INDEX_FILE_ROLES) files[role] = store.localPath(INDEX_DIR + desc.files[role].name);
    return files;
  }
  // Named by the descriptor, which pins every file by sha256: one download per index content.
  const base = opts.cacheDir ?? path.join(os.tmpdir(), 'nextlong-index-cache');
  const dir = path.join(base, createHash('sha256').update(raw).digest('hex').slice(0, 24));
  for (const role of INDEX_FILE_ROLES) {
    files[role] = path.join(dir, desc.files[role].name);
    await download(store, INDEX_DIR + desc.files[role].name, files[role], desc.files[role], opts.signal);
  }
  return files;
}

async function readDocIds(file: string): Promise<string[]> {
  const ids: string[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') ids.push(JSON.parse(line) as string);
  return ids;
}

/** The `segments` backend's searcher (DESIGN §2): HNSW candidates, exact re-scoring, texts on demand. */
export class SegmentsVectorIndex implements VectorSearcher {
  readonly size: number;
  readonly dim: number;
  private readonly docOrdById = new Map<string, number>();
  private readonly docChunkCounts: Uint32Array;
  private readonly slicer: TimeSlicer;
  private closed = false;

  constructor(
    private readonly data: Loaded,
    private readonly threads: number,
  ) {
    this.slicer = new TimeSlicer(SLICE_BUDGET_MS, threads);
    this.size = data.desc.chunks;
    this.dim = data.desc.dim;
    data.docIds.forEach((id, ord) => this.docOrdById.set(id, ord));
    this.docChunkCounts = new Uint32Array(data.docIds.length);
    for (let k = 0; k < this.size; k++) this.docChunkCounts[data.table.docOrds[k]]++;
  }

  get descriptor(): IndexDescriptor {
    return this.data.desc;
  }

  /** Number of indexed chunks of `docId` (0 when it has none). */
  chunkCount(docId: string): number {
    const ord = this.docOrdById.get(docId);
    return ord === undefined ? 0 : this.docChunkCounts[ord];
  }

  async search(queries: Float32Array[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    this.checkOpen();
    signal?.throwIfAborted();
    for (const q of queries) if (q.length !== this.dim) throw new Error(`query has ${q.length} dims, the index has ${this.dim}`);
    if (queries.length === 0) return [];
    if (limit <= 0 || this.size === 0) return queries.map(() => []);
    const { vectors, table, hnsw } = this.data;
    const excluded = this.docOrdById.get(excludeDocId) ?? -1;
    const skip = (key: number) => table.docOrds[key] === excluded;
    const excludedCount = excluded >= 0 ? this.docChunkCounts[excluded] : 0;
    // What a complete answer holds: never fewer hits than the pool can give (DESIGN §3.3).
    const want = Math.min(limit, this.size - excludedCount);
    const exactly = (q: Float32Array) => exactTopK(vectors, this.dim, this.size, q, want, skip);
    // Over-fetch by the excluded doc's chunk count so dropping them never shortens the list.
    const k = Math.min(this.size, limit + excludedCount);
    const ranked: Ranked[][] = new Array(queries.length);
    // In time slices: a large batch on a large pool would hold the event loop for seconds. Each
    // query is searched on its own, so where the slices fall never changes a result.
    await this.slicer.run(
      queries.length,
      (start, end) => {
        if (!hnsw) {
          for (let i = start; i < end; i++) ranked[i] = exactly(queries[i]);
          return;
        }
        const res = hnsw.search(queries.slice(start, end), k, this.threads) as BatchMatches | Matches;
        for (let i = start; i < end; i++) {
          const m = 'counts' in res ? res.get(i - start) : res;
          const list = rescore(vectors, this.dim, queries[i], Array.from(m.keys, Number), limit, skip);
          // HNSW can come back short (a poorly connected graph region): brute force instead.
          ranked[i] = list.length < want ? exactly(queries[i]) : list;
        }
      },
      signal,
    );
    return ranked.map((list) => list.map((r) => this.hit(r)));
  }

  private hit({ key, score }: Ranked): Hit {
    const { table, docIds } = this.data;
    return { key, docId: docIds[table.docOrds[key]], chunk: table.chunks[key], score, hash: table.hashes[key] };
  }

  async texts(keys: number[], signal?: AbortSignal): Promise<string[]> {
    this.checkOpen();
    for (const k of keys) this.checkKey(k);
    const { table, texts } = this.data;
    return Promise.all(
      keys.map(async (key) => {
        signal?.throwIfAborted();
        const len = table.textLengths[key];
        const buf = Buffer.allocUnsafe(len);
        for (let got = 0; got < len;) {
          const { bytesRead } = await texts.read(buf, got, len - got, table.textOffsets[key] + got);
          if (bytesRead === 0) throw new Error(`texts file ended early reading chunk ${key}`);
          got += bytesRead;
        }
        return buf.toString('utf8');
      }),
    );
  }

  async scores(query: Float32Array, keys: number[]): Promise<number[]> {
    this.checkOpen();
    if (query.length !== this.dim) throw new Error(`query has ${query.length} dims, the index has ${this.dim}`);
    for (const k of keys) this.checkKey(k);
    return keys.map((key) => dotRow(this.data.vectors, this.dim, key, query));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.data.hnsw = undefined; // usearch frees (and unmaps) on garbage collection
    await this.data.texts.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the vector index is closed');
  }

  private checkKey(key: number): void {
    if (!Number.isInteger(key) || key < 0 || key >= this.size) throw new Error(`chunk key ${key} is out of range 0..${this.size - 1}`);
  }
}
