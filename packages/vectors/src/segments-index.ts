import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChunkRef, Hit, ObjectStore, Rng, VectorSearcher } from '@nextlong/core';
import { Index, MetricKind, ScalarKind, type BatchMatches, type Matches } from 'usearch';
import { ChunkTexts } from './chunk-texts.js';
import { DocIdTable } from './doc-ids.js';
import {
  INDEX_DIR,
  INDEX_FILE_ROLES,
  decodeChunkTable,
  readDescriptor,
  vectorTypeOf,
  type ChunkTable,
  type IndexDescriptor,
  type IndexFileInfo,
  type IndexFileRole,
} from './index-layout.js';
import { download, readWhole } from './local-files.js';
import { exactTopK, rescore, type Ranked } from './scoring.js';
import { SLICE_BUDGET_MS, TimeSlicer } from './time-slices.js';
import { VectorRows, vectorsInMemoryBytes } from './vector-rows.js';
import { SCALAR_KINDS } from './vector-types.js';

/** The host's shared cache of remote indexes (one folder per index content). */
const DEFAULT_INDEX_CACHE_DIR = path.join(os.tmpdir(), 'nextlong-index-cache');

export interface OpenSegmentsOptions {
  /** Where a non-local store's index files are downloaded, shared by the host's processes (default DEFAULT_INDEX_CACHE_DIR). */
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

/** One memory-mapped partition graph (labels are global keys). */
interface Graph {
  count: number;
  index: Index;
}

/** What the searcher holds: a compact chunk and doc table; vectors, texts and graphs stay in files. */
interface Loaded {
  desc: IndexDescriptor;
  vectors: VectorRows;
  table: ChunkTable;
  docIds: DocIdTable;
  texts: ChunkTexts;
  graphs?: Graph[];
}

/** Opens the index built by `buildSegmentsIndex` in `store`. */
export async function openSegmentsIndex(store: ObjectStore, opts: OpenSegmentsOptions = {}): Promise<SegmentsVectorIndex> {
  const { desc, raw } = await readDescriptor(store, opts.signal);
  const files = await localFiles(store, desc, raw, opts);
  const where = (name: string) => `${store.root}/${INDEX_DIR}${name}`;
  const table = decodeChunkTable(new Uint8Array(await readWhole(files.chunks, desc.files.chunks.bytes)), where(desc.files.chunks.name));
  if (table.count !== desc.chunks) throw new Error(`${where(desc.files.chunks.name)}: ${table.count} rows, the descriptor says ${desc.chunks}`);
  const docIds = await DocIdTable.read(files.docs, where(desc.files.docs.name));
  if (docIds.count !== desc.docs) throw new Error(`${where(desc.files.docs.name)}: ${docIds.count} doc ids, the descriptor says ${desc.docs}`);
  if ((await stat(files.texts)).size !== desc.files.texts.bytes) throw new Error(`${where(desc.files.texts.name)}: size differs from the descriptor`);
  const graphs = !opts.exact && desc.chunks > 0 ? desc.partitions.map((p, i) => viewGraph(desc, files.graphs[i], p.count, where(p.file.name), opts)) : undefined;
  const vectors = VectorRows.open(files.vectors, desc.dim, desc.chunks, where(desc.files.vectors.name), vectorsInMemoryBytes(), vectorTypeOf(desc));
  const texts = new ChunkTexts(files.texts, table);
  // usearch keeps one search context per hardware thread; asking for more fails the search.
  const threads = Math.max(1, Math.min(opts.threads ?? 1, os.availableParallelism()));
  return new SegmentsVectorIndex({ desc, vectors, table, docIds, texts, graphs }, threads);
}

function viewGraph(desc: IndexDescriptor, file: string, count: number, where: string, opts: OpenSegmentsOptions): Graph {
  const index = new Index({
    dimensions: desc.dim,
    metric: MetricKind.Cos,
    // The graph's stored type (its file holds rows of that type; usearch casts the f32 queries).
    quantization: ScalarKind[SCALAR_KINDS[vectorTypeOf(desc)]],
    connectivity: desc.params.connectivity,
    expansion_add: desc.params.expansionAdd,
    expansion_search: opts.expansionSearch ?? desc.params.expansionSearch,
    multi: false,
  });
  // view() memory-maps the graph: pages load on demand and are shared between processes.
  index.view(file);
  if (index.size() !== count) throw new Error(`${where}: ${index.size()} vectors, the descriptor says ${count}`);
  return { count, index };
}

/** Local paths of the index files: in place for a local store, else downloaded to the host's cache. */
async function localFiles(store: ObjectStore, desc: IndexDescriptor, raw: Uint8Array, opts: OpenSegmentsOptions) {
  const infos: Array<[IndexFileRole | number, IndexFileInfo]> = [
    ...INDEX_FILE_ROLES.map((role) => [role, desc.files[role]] as [IndexFileRole, IndexFileInfo]),
    ...desc.partitions.map((p, i) => [i, p.file] as [number, IndexFileInfo]),
  ];
  // Named by the descriptor, which pins every file by sha256: one download per index content.
  const dir = path.join(opts.cacheDir ?? DEFAULT_INDEX_CACHE_DIR, createHash('sha256').update(raw).digest('hex').slice(0, 24));
  const files = { graphs: [] as string[] } as Record<IndexFileRole, string> & { graphs: string[] };
  for (const [what, info] of infos) {
    let file: string;
    if (store.localPath) file = store.localPath(INDEX_DIR + info.name);
    else {
      file = path.join(dir, info.name);
      await download(store, INDEX_DIR + info.name, file, info, opts.signal);
    }
    if (typeof what === 'number') files.graphs[what] = file;
    else files[what] = file;
  }
  return files;
}

/** One query's candidate keys from every partition: `keys[0..count-1]`. */
interface Candidates {
  keys: Uint32Array;
  count: number;
}

/** The `segments` backend's searcher (DESIGN §2): HNSW candidates, exact re-scoring, texts on demand. */
export class SegmentsVectorIndex implements VectorSearcher {
  readonly size: number;
  readonly dim: number;
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
    this.docChunkCounts = new Uint32Array(data.docIds.count);
    for (let k = 0; k < this.size; k++) this.docChunkCounts[data.table.docOrds[k]]++;
  }

  get descriptor(): IndexDescriptor {
    return this.data.desc;
  }

  /** Number of indexed chunks of `docId` (0 when it has none). */
  chunkCount(docId: string): number {
    const ord = this.data.docIds.ordinal(docId);
    return ord < 0 ? 0 : this.docChunkCounts[ord];
  }

  async search(queries: Float32Array[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    this.checkOpen();
    signal?.throwIfAborted();
    for (const q of queries) if (q.length !== this.dim) throw new Error(`query has ${q.length} dims, the index has ${this.dim}`);
    if (queries.length === 0) return [];
    if (limit <= 0 || this.size === 0) return queries.map(() => []);
    const { vectors, table, graphs } = this.data;
    const excluded = this.data.docIds.ordinal(excludeDocId);
    const skip = (key: number) => table.docOrds[key] === excluded;
    const excludedCount = excluded >= 0 ? this.docChunkCounts[excluded] : 0;
    // What a complete answer holds: never fewer hits than the pool can give (DESIGN §3.3).
    const want = Math.min(limit, this.size - excludedCount);
    const exactly = (q: Float32Array) => exactTopK(vectors, q, want, skip);
    const ranked: Ranked[][] = new Array(queries.length);
    // In time slices: a large batch on a large pool would hold the event loop for seconds. Each
    // query is searched on its own, so where the slices fall never changes a result.
    await this.slicer.run(
      queries.length,
      (start, end) => {
        if (!graphs) {
          for (let i = start; i < end; i++) ranked[i] = exactly(queries[i]);
          return;
        }
        const candidates = this.candidates(graphs, queries.slice(start, end), limit + excludedCount);
        for (let i = start; i < end; i++) {
          const c = candidates[i - start];
          const list = rescore(vectors, queries[i], c.keys, c.count, limit, skip);
          // HNSW can come back short (a poorly connected graph region): brute force instead.
          ranked[i] = list.length < want ? exactly(queries[i]) : list;
        }
      },
      signal,
    );
    // One doc id string per document per call: neighbours cluster in few documents.
    const ids = new Map<number, string>();
    return ranked.map((list) => list.map((r) => this.hit(r, ids)));
  }

  /** Ordinal of document `docId` among the indexed ones (-1 when it has no chunk here). */
  docOrdinal(docId: string): number {
    return this.data.docIds.ordinal(docId);
  }

  /** The document ordinal of chunk `key` (for other searchers over the same keys: bm25-index.ts). */
  docOrdinalOf(key: number): number {
    return this.data.table.docOrds[key]!;
  }

  /** Chunk `key` as a hit with `score` (identity from the chunk table). */
  refOf(key: number, score: number): Hit {
    this.checkKey(key);
    return this.hit({ key, score });
  }

  private hit({ key, score }: Ranked, ids?: Map<number, string>): Hit {
    const { table, docIds } = this.data;
    const ord = table.docOrds[key];
    let docId = ids?.get(ord);
    if (docId === undefined) {
      docId = docIds.id(ord);
      ids?.set(ord, docId);
    }
    return { key, docId, chunk: table.chunks[key], score, hash: table.hashes[key] };
  }

  /**
   * Each query's candidates from every partition: the `k` nearest of each (over-fetched by the
   * excluded doc's chunk count, so dropping them never shortens the list). Partitions hold
   * disjoint keys; the exact re-scoring ranks the union, so the merge is by exact score.
   */
  private candidates(graphs: Graph[], batch: Float32Array[], k: number): Candidates[] {
    const cap = graphs.reduce((n, g) => n + Math.min(g.count, k), 0);
    const out: Candidates[] = batch.map(() => ({ keys: new Uint32Array(cap), count: 0 }));
    for (const g of graphs) {
      if (g.count === 0) continue;
      const kk = Math.min(g.count, k);
      // Always an array: usearch copies it into its own Float32Array, where a query typed array
      // from another realm (a vm context, a worker's buffer) would fail its instanceof check.
      const res = g.index.search(batch, kk, this.threads) as BatchMatches | Matches;
      for (let i = 0; i < batch.length; i++) {
        // Read the batch's flat arrays in place (BatchMatches.get copies each query's slice).
        const [keys, from, n] = 'counts' in res ? [res.keys, i * kk, Number(res.counts[i])] : [res.keys, 0, res.keys.length];
        const c = out[i];
        for (let j = 0; j < n; j++) c.keys[c.count++] = Number(keys[from + j]);
      }
    }
    return out;
  }

  async texts(keys: number[], signal?: AbortSignal): Promise<string[]> {
    this.checkOpen();
    for (const k of keys) this.checkKey(k);
    signal?.throwIfAborted();
    return keys.map((key) => this.data.texts.get(key));
  }

  async scores(query: Float32Array, keys: number[]): Promise<number[]> {
    this.checkOpen();
    if (query.length !== this.dim) throw new Error(`query has ${query.length} dims, the index has ${this.dim}`);
    for (const k of keys) this.checkKey(k);
    return keys.map((key) => this.data.vectors.score(key, query));
  }

  /** Keys are the ordinals 0..size-1 here, so a draw is one `rng.int(size)` per chunk. */
  async sample(count: number, rng: Rng): Promise<ChunkRef[]> {
    this.checkOpen();
    if (this.size === 0) return [];
    return Array.from({ length: count }, () => {
      const { key, docId, chunk, hash } = this.hit({ key: rng.int(this.size), score: 0 });
      return { key, docId, chunk, hash };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.data.graphs = undefined; // usearch frees (and unmaps) on garbage collection
    this.data.vectors.close();
    this.data.texts.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the vector index is closed');
  }

  private checkKey(key: number): void {
    if (!Number.isInteger(key) || key < 0 || key >= this.size) throw new Error(`chunk key ${key} is out of range 0..${this.size - 1}`);
  }
}
