/** Narrow ports between the algorithm and its adapters (DESIGN §7). */

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

/** A search result; `key` is the chunk's stable ordinal in the index (tie-breaker). */
export interface Hit {
  key: number;
  docId: string;
  chunk: number;
  score: number; // cosine similarity
  hash: number;
}

/** Read side of a sealed vector index. */
export interface VectorSearcher {
  readonly size: number;
  /** Per query: hits by descending score, ties by ascending key, excluding the given doc. */
  search(queries: Float32Array[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]>;
  texts(keys: number[], signal?: AbortSignal): Promise<string[]>;
  /** Cosine similarity of `query` to the chunks `keys` (for the random-negative baseline). */
  scores(query: Float32Array, keys: number[]): Promise<number[]>;
  close(): Promise<void>;
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
