import { PermanentError, type ChunkPoint, type ChunkRef, type Hit, type Rng, type VectorSearcher } from '@nextlong/core';
import type { Schemas } from '@qdrant/js-client-rest';
import { ChunkCache, type ChunkRef as CachedRef } from './qdrant-cache.js';
import { QdrantHttp } from './qdrant-http.js';
import { qdrantChunkKey, qdrantPointId } from './qdrant-ids.js';
import { waitUntilIndexed } from './qdrant-indexing-wait.js';
import { resolve, type OpenQdrantOptions, type Resolved } from './qdrant-options.js';
import { cosineToStored, drawPoints, fetchVectors } from './qdrant-sample.js';
import { sparseCreateConfig, sparseDocVector, SPARSE_NAME } from './qdrant-sparse.js';
import { compareRanked } from './scoring.js';

export type { OpenQdrantOptions } from './qdrant-options.js';

/** The `qdrant` vector backend (DESIGN §2): embed workers upsert points, synth workers query. */

/**
 * What a search asks of each hit's payload: only what ranking and filtering need (identity and
 * the duplicate hash). Texts are fetched by point id for the hits the caller keeps (`texts`).
 */
const SEARCH_PAYLOAD = ['doc_id', 'chunk', 'hash'];

/**
 * Opens (and with `create`, first ensures) a collection; `size` is its exact point count now.
 * The read side first waits until the collection has finished indexing (qdrant-indexing-wait.ts).
 */
export async function openQdrantIndex(opts: OpenQdrantOptions): Promise<QdrantVectorIndex> {
  const o = resolve(opts);
  const http = new QdrantHttp({
    url: opts.url,
    apiKey: opts.apiKey,
    timeoutMs: o.timeoutMs,
    maxRetries: o.maxRetries,
    retryBaseMs: o.retryBaseMs,
    retryMaxMs: o.retryMaxMs,
    retryBudgetMs: o.retryBudgetMs,
  });
  const ix = new QdrantVectorIndex(http, o);
  if (o.create) await ix.ensureCollection(opts.signal);
  else {
    const info = await ix.collectionInfo(opts.signal);
    if (!info) throw new PermanentError(`${ix.where}: no such collection (run the embed stage first, or open with create)`);
    ix.checkInfo(info);
    await waitUntilIndexed(ix.indexingProbe(), info, o, opts.signal);
  }
  await ix.count(opts.signal);
  return ix;
}

/**
 * A float32 vector as JSON numbers of at most 9 significant digits: enough to give back the same
 * float32 when Qdrant parses it, and about half the bytes of a double's shortest form.
 */
function f32Json(v: Float32Array): number[] {
  return Array.from(v, (x) => Number(x.toPrecision(9)));
}

export class QdrantVectorIndex implements VectorSearcher {
  /** `<url> collection "<name>"`, for messages. */
  readonly where: string;
  private readonly path: string;
  private readonly cache: ChunkCache;
  private points = 0;
  private ensured = false;
  private closed = false;

  constructor(
    private readonly http: QdrantHttp,
    private readonly opts: Resolved,
  ) {
    this.where = `Qdrant ${http.where} collection "${opts.collection}"`;
    this.path = `/collections/${encodeURIComponent(opts.collection)}`;
    this.cache = new ChunkCache({ maxRefs: opts.cacheRefs, maxTextChars: opts.cacheTextChars });
  }

  /** Point count read at open (or by the last `count()`). */
  get size(): number {
    return this.points;
  }

  get dim(): number {
    return this.opts.dim;
  }

  /** Exact point count now; also updates `size`. */
  async count(signal?: AbortSignal): Promise<number> {
    const body: Schemas['CountRequest'] = { exact: true };
    const r = await this.http.request<Schemas['CountResult']>('POST', `${this.path}/points/count`, body, { signal });
    const n = r.result?.count;
    if (!Number.isInteger(n)) throw new PermanentError(`${this.where}: count answer without a count`);
    return (this.points = n!);
  }

  /** The collection's description, or undefined when it does not exist. */
  async collectionInfo(signal?: AbortSignal): Promise<Schemas['CollectionInfo'] | undefined> {
    const r = await this.http.request<Schemas['CollectionInfo']>('GET', this.path, undefined, { signal, allow: [404] });
    return r.status === 404 ? undefined : r.result;
  }

  /** Collection status polls for waitUntilIndexed. */
  indexingProbe() {
    return {
      where: this.where,
      info: (signal?: AbortSignal) => this.collectionInfo(signal),
      resume: async (signal?: AbortSignal) => {
        const body: Schemas['UpdateCollection'] = { optimizers_config: {} };
        await this.http.request('PATCH', this.path, body, { signal });
      },
    };
  }

  /** Throws a PermanentError unless the collection holds one unnamed cosine vector of `dim`. */
  checkInfo(info: Schemas['CollectionInfo']): void {
    const v = info?.config?.params?.vectors as Partial<Schemas['VectorParams']> | undefined;
    if (!v || typeof v.size !== 'number') {
      throw new PermanentError(`${this.where}: expected one unnamed vector of ${this.opts.dim} dims, found named vectors or none`);
    }
    if (v.size !== this.opts.dim) {
      throw new PermanentError(`${this.where}: dimension mismatch: expected ${this.opts.dim} dims, found ${v.size}`);
    }
    if (v.distance !== 'Cosine') throw new PermanentError(`${this.where}: expected Cosine distance, found ${v.distance}`);
    const sparse = info?.config?.params?.sparse_vectors?.[SPARSE_NAME];
    if (this.opts.bm25 && sparse?.modifier !== 'idf')
      throw new PermanentError(`${this.where}: retriever bm25 needs the sparse vector "${SPARSE_NAME}" with modifier idf (collection made by a dense run?)`);
  }

  /**
   * Creates the collection (cosine, `hnsw`, optional int8 quantization, float16 or on-disk
   * vectors) when missing, then the `doc_id` keyword index when missing — before any upload, so
   * Qdrant builds it as it goes.
   * Safe to race with other workers: a create that finds the collection made meanwhile re-checks it.
   */
  async ensureCollection(signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    if (this.ensured) return;
    let info = await this.collectionInfo(signal);
    if (!info) {
      const r = await this.http.request<boolean>('PUT', this.path, this.createBody(), { signal, allow: [400, 409] });
      if (r.status === 400 && !/already exists/i.test(r.error ?? '')) {
        throw Object.assign(new PermanentError(this.http.scrub(`${this.where}: create failed: HTTP 400: ${r.error ?? ''}`)), {
          status: 400,
        });
      }
      if (r.status >= 300) info = await this.collectionInfo(signal); // created by another worker meanwhile
    }
    if (info) this.checkInfo(info);
    const schema = info?.payload_schema?.doc_id as { data_type?: string } | undefined;
    if (schema?.data_type !== 'keyword') {
      const body: Schemas['CreateFieldIndex'] = { field_name: 'doc_id', field_schema: 'keyword' };
      await this.http.request('PUT', `${this.path}/index?wait=true`, body, { signal });
    }
    this.ensured = true;
  }

  private createBody(): Schemas['CreateCollection'] {
    const { dim, hnsw, quantization, datatype, onDisk } = this.opts;
    // options at their defaults are left out: the request stays what Qdrant's defaults mean
    const vectors: Schemas['VectorParams'] = { size: dim, distance: 'Cosine' };
    if (datatype !== 'float32') vectors.datatype = datatype;
    if (onDisk) vectors.on_disk = true;
    const body: Schemas['CreateCollection'] = {
      vectors,
      hnsw_config: { m: hnsw.m, ef_construct: hnsw.efConstruct },
    };
    if (quantization === 'int8') body.quantization_config = { scalar: { type: 'int8', always_ram: true } };
    if (this.opts.bm25) body.sparse_vectors = sparseCreateConfig();
    return body;
  }

  /**
   * Writes `points` (empty-text chunks skipped) in requests of `batchSize`, each applied before
   * it returns (`wait=true`). Ids are UUIDv5 of (doc id, chunk): a retried shard overwrites.
   */
  async upsert(points: readonly ChunkPoint[], signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    const kept = points.filter((p) => p.text.length > 0);
    for (const p of kept) {
      if (p.vector.length !== this.opts.dim)
        throw new PermanentError(`chunk ${p.docId}#${p.chunk}: ${p.vector.length} dims, ${this.where} has ${this.opts.dim}`);
      if (!Number.isSafeInteger(p.hash)) throw new PermanentError(`chunk ${p.docId}#${p.chunk}: hash must be a safe integer`);
    }
    for (let i = 0; i < kept.length; i += this.opts.batchSize) {
      const batch: Schemas['PointStruct'][] = kept.slice(i, i + this.opts.batchSize).map((p) => ({
        id: qdrantPointId(p.docId, p.chunk),
        vector: this.opts.bm25 ? { '': f32Json(p.vector), [SPARSE_NAME]: sparseDocVector(p.text) } : f32Json(p.vector),
        payload: { doc_id: p.docId, chunk: p.chunk, text: p.text, hash: p.hash },
      }));
      const body: Schemas['PointInsertOperations'] = { points: batch };
      await this.http.request('PUT', `${this.path}/points?wait=true`, body, { signal });
    }
  }

  /** Deletes the points of chunks `chunks` of document `docId` (absent points are no error). */
  async deleteChunks(docId: string, chunks: readonly number[], signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    if (chunks.length === 0) return;
    const body: Schemas['PointsSelector'] = { points: chunks.map((c) => qdrantPointId(docId, c)) };
    await this.http.request('POST', `${this.path}/points/delete?wait=true`, body, { signal });
  }

  /** One `query/batch` request; hits re-ranked here (descending score, ties by ascending key). */
  async search(queries: Float32Array[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    this.checkOpen();
    signal?.throwIfAborted();
    for (const q of queries) if (q.length !== this.opts.dim) throw new Error(`query has ${q.length} dims, the index has ${this.opts.dim}`);
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`search limit must be an integer ≥ 0, got ${limit}`);
    if (queries.length === 0) return [];
    if (limit === 0) return queries.map(() => []);
    const filter: Schemas['Filter'] = { must_not: [{ key: 'doc_id', match: { value: excludeDocId } }] };
    const searches = queries.map((q) => ({
      query: f32Json(q),
      filter,
      limit,
      with_payload: SEARCH_PAYLOAD,
      params: { hnsw_ef: Math.max(limit, this.opts.efSearch) },
    }));
    return this.runQueries(searches, excludeDocId, signal);
  }

  /** One `query/batch` request of `searches` (dense, or sparse: qdrant-sparse.ts); hits re-ranked here. */
  async runQueries(searches: Schemas['QueryRequest'][], excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    this.checkOpen();
    const body: Schemas['QueryRequestBatch'] = { searches };
    const r = await this.http.request<Schemas['QueryResponse'][]>('POST', `${this.path}/points/query/batch`, body, { signal });
    const lists = r.result;
    if (!Array.isArray(lists) || lists.length !== searches.length)
      throw new PermanentError(
        `${this.where}: query/batch answered ${Array.isArray(lists) ? lists.length : 'no'} lists for ${searches.length} queries`,
      );
    return lists.map((list) => this.toHits(list?.points ?? [], excludeDocId));
  }

  /** Point ids of chunks this searcher returned (search or sample). */
  pointIdsOf(keys: number[]): string[] {
    return keys.map((key) => {
      const ref = this.cache.ref(key);
      if (!ref) throw new Error(`chunk key ${key} is unknown here: only keys returned by this searcher's search() or sample() are`);
      return qdrantPointId(ref.docId, ref.chunk);
    });
  }

  private toHits(points: Schemas['ScoredPoint'][], excludeDocId: string): Hit[] {
    const seen = new Set<number>();
    const hits: Hit[] = [];
    for (const p of points) {
      const { docId, chunk, hash } = this.payloadOf(p.id, p.payload);
      if (docId === excludeDocId) continue;
      const key = qdrantChunkKey(docId, chunk);
      if (seen.has(key)) continue;
      seen.add(key);
      if (typeof hash !== 'number') throw new PermanentError(`${this.where}: point ${p.id} has no numeric hash payload`);
      this.cache.put(key, { docId, chunk });
      hits.push({ key, docId, chunk, score: p.score, hash });
    }
    return hits.sort(compareRanked);
  }

  private payloadOf(id: unknown, payload: unknown) {
    const pl = (payload ?? {}) as { doc_id?: unknown; chunk?: unknown; hash?: unknown };
    if (typeof pl.doc_id !== 'string' || !Number.isInteger(pl.chunk)) {
      throw new PermanentError(`${this.where}: point ${String(id)} has no doc_id/chunk payload (not written by nextlong?)`);
    }
    return {
      docId: pl.doc_id,
      chunk: pl.chunk as number,
      hash: pl.hash as number | undefined,
    };
  }

  /**
   * Texts of hits returned by `search`, in the order asked (repeats included): from the cache,
   * else fetched by point id in one request. A key this process never got from `search` (or
   * whose identity the cache has dropped) cannot be answered: hash keys are not invertible.
   */
  async texts(keys: number[], signal?: AbortSignal): Promise<string[]> {
    this.checkOpen();
    // Answers are collected apart from the cache: it may evict while fetched texts go in.
    const found = new Map<number, string>();
    const missing = new Map<string, { key: number; ref: CachedRef }>(); // by point id
    for (const key of keys) {
      if (found.has(key)) continue;
      const text = this.cache.text(key);
      if (text !== undefined) {
        found.set(key, text);
        continue;
      }
      const ref = this.cache.ref(key);
      if (!ref) throw new Error(`chunk key ${key} is unknown here: texts() answers keys returned by this searcher's search()`);
      missing.set(qdrantPointId(ref.docId, ref.chunk), { key, ref });
    }
    if (missing.size > 0) for (const [key, text] of await this.retrieve(missing, signal)) found.set(key, text);
    return keys.map((key) => found.get(key)!);
  }

  /** Texts of points `ids`, by id in one request that asks for the text alone. */
  private async retrieve(ids: Map<string, { key: number; ref: CachedRef }>, signal?: AbortSignal): Promise<Map<number, string>> {
    const body: Schemas['PointRequest'] = { ids: [...ids.keys()], with_payload: ['text'], with_vector: false };
    const r = await this.http.request<Schemas['Record'][]>('POST', `${this.path}/points`, body, { signal });
    const out = new Map<number, string>();
    for (const rec of r.result ?? []) {
      const asked = ids.get(String(rec.id));
      const text = (rec.payload as { text?: unknown } | null | undefined)?.text;
      if (asked === undefined) throw new PermanentError(`${this.where}: asked for ${ids.size} point(s), got point ${String(rec.id)}`);
      if (typeof text !== 'string') throw new PermanentError(`${this.where}: point ${String(rec.id)} has no text payload`);
      out.set(asked.key, text);
      this.cache.put(asked.key, asked.ref, text);
    }
    if (out.size < ids.size) {
      const lost = [...ids].filter(([, a]) => !out.has(a.key)).map(([id]) => id);
      throw new PermanentError(`${this.where}: ${lost.length} point(s) not found (e.g. ${lost[0]}): collection changed since the search?`);
    }
    return out;
  }

  /**
   * Cosine similarity of `query` to chunks this searcher returned (search or sample): their
   * stored vectors fetched by point id in one request, scored as a search would score them.
   */
  async scores(query: Float32Array, keys: number[], signal?: AbortSignal): Promise<number[]> {
    this.checkOpen();
    if (query.length !== this.opts.dim) throw new Error(`query has ${query.length} dims, the index has ${this.opts.dim}`);
    if (keys.length === 0) return [];
    const ids = this.pointIdsOf(keys);
    const vectors = await fetchVectors(this.http, this.path, [...new Set(ids)], signal);
    return ids.map((id) => cosineToStored(query, vectors.get(id)!));
  }

  /** Random chunks (qdrant-sample.ts: a scroll from a seeded random point id per draw). */
  async sample(count: number, rng: Rng, signal?: AbortSignal): Promise<ChunkRef[]> {
    this.checkOpen();
    if (this.points === 0 || count <= 0) return [];
    const drawn = await drawPoints(this.http, this.path, count, rng, SEARCH_PAYLOAD, signal);
    return drawn.map((p) => {
      const { docId, chunk, hash } = this.payloadOf(p.id, p.payload);
      if (typeof hash !== 'number') throw new PermanentError(`${this.where}: point ${p.id} has no numeric hash payload`);
      const key = qdrantChunkKey(docId, chunk);
      this.cache.put(key, { docId, chunk });
      return { key, docId, chunk, hash };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the vector index is closed');
  }
}
