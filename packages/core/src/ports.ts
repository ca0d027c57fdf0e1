/** Narrow ports between the algorithm and its adapters (DESIGN §7). */
import type { SparseQuery } from './bm25.js';
import type { Rng } from './rng.js';

export interface Tokenizer {
  readonly name: string;
  /** Token ids of `text`; special-token strings are plain text, never specials. */
  encode(text: string): Uint32Array;
  count(text: string): number;
  decode(ids: ArrayLike<number>): string;
  /** UTF-16 index in `text` where the first `n` of `ids` (= encode(text)) end, on a code point boundary. */
  prefixEnd(text: string, ids: Uint32Array, n: number): number;
}

export interface Embedder {
  readonly name: string;
  readonly dim: number;
  /** L2-normalized embeddings, one per text, in order. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** One indexed pool chunk. */
export interface ChunkPoint {
  docId: string;
  chunk: number;
  text: string;
  hash: number; // textHash of the chunk, for duplicate exclusion
  vector: Float32Array;
}

/**
 * A pool chunk as a searcher names it. `key` is the chunk's handle in the searcher that
 * returned it, in every backend: a safe integer, stable for that searcher's life, accepted by
 * its texts() and scores(), and the tie-breaker of equal scores. Nothing outside a backend
 * reads more into it (it is not portable between backends, nor a count or a position to draw).
 */
export interface ChunkRef {
  key: number;
  docId: string;
  chunk: number;
  hash: number;
}

/** A search result: a chunk and its score (cosine similarity; BM25 for the bm25 retriever). */
export interface Hit extends ChunkRef {
  score: number;
}

/** Turns texts into a searcher's queries: the Embedder for dense search, bm25Encoder for BM25. */
export interface QueryEncoder<Q = Float32Array> {
  readonly name: string;
  embed(texts: string[], signal?: AbortSignal): Promise<Q[]>;
}

/**
 * Read side of a sealed index. Queries are embeddings (`Float32Array`, cosine scores) for the
 * dense retriever, or another kind for another retriever (core/bm25.ts: sparse term queries,
 * BM25 scores), made by the QueryEncoder that goes with the searcher.
 */
export interface VectorSearcher<Q = Float32Array> {
  readonly size: number;
  /** Per query: hits by descending score, ties by ascending key, excluding the given doc. */
  search(queries: Q[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]>;
  /** Texts of chunks this searcher returned (by search or sample), in the order asked. */
  texts(keys: number[], signal?: AbortSignal): Promise<string[]>;
  /** The score `search` gives chunks this searcher returned (search or sample), in the order asked. */
  scores(query: Q, keys: number[], signal?: AbortSignal): Promise<number[]>;
  /**
   * `count` pool chunks drawn uniformly at random (with replacement) from `rng`: the same rng
   * state and index give the same chunks (the random baseline, `selection: random-pool`).
   */
  sample(count: number, rng: Rng, signal?: AbortSignal): Promise<ChunkRef[]>;
  close(): Promise<void>;
}

/**
 * Write side of a vector backend (DESIGN §2): each embed shard opens a writer, upserts its
 * points and closes it; after the barrier the index stage seals the backend (builds what a
 * search needs); synth processes then open searchers. The pipeline picks one backend per run.
 */
export interface VectorBackend {
  readonly name: string;
  /** The writer of one embed shard (idempotent: a retried shard overwrites its points). */
  open(shardId: string, dim: number, signal?: AbortSignal): Promise<VectorWriter>;
  /** After every writer has closed: makes the index searchable; returns the chunks indexed. */
  seal(opts: { onProgress?: (chunksDone: number) => void; signal?: AbortSignal }): Promise<number>;
  /** A searcher on the sealed index. */
  openSearcher(signal?: AbortSignal): Promise<VectorSearcher>;
  /** `retriever: bm25`: a BM25 searcher over the same chunks (core/bm25.ts); absent where the backend has none. */
  openBm25Searcher?(signal?: AbortSignal): Promise<VectorSearcher<SparseQuery>>;
}

export interface VectorWriter {
  /** Adds points (empty-text chunks are never indexed). */
  upsert(points: readonly ChunkPoint[], signal?: AbortSignal): Promise<void>;
  /** Makes every upserted point durable; the writer is unusable after. */
  close(signal?: AbortSignal): Promise<void>;
}

export interface ObjectStore {
  /** A printable location for messages (never with credentials). */
  readonly root: string;
  put(key: string, body: Uint8Array | string, signal?: AbortSignal): Promise<void>;
  get(key: string, signal?: AbortSignal): Promise<Uint8Array>;
  exists(key: string, signal?: AbortSignal): Promise<boolean>;
  list(prefix: string, signal?: AbortSignal): AsyncIterable<string>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** A local filesystem path for `key` when the store is local (lets the index be memory-mapped). */
  localPath?(key: string): string;
}
