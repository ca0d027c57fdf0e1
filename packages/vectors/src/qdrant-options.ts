/** Options of the Qdrant backend (openQdrantIndex), their defaults and their checks. */
import { ConfigError, logger, retryBudgetMs } from '@nextlong/core';

export interface OpenQdrantOptions {
  /** http(s)://host:port[/prefix] of the Qdrant REST API (QDRANT_URL). */
  url: string;
  /** Sent as the `api-key` header (QDRANT_API_KEY); never printed. */
  apiKey?: string;
  collection: string;
  /** Vector dimensions: the embedder's `dim`. */
  dim: number;
  /** Create the collection and its `doc_id` index when missing (write side). Default false. */
  create?: boolean;
  /** HNSW of a collection this creates. Default m 16, efConstruct 128. */
  hnsw?: { m: number; efConstruct: number };
  /** Scalar int8 quantization (quantized vectors always in RAM) of a collection this creates. Default 'none'. */
  quantization?: 'int8' | 'none';
  /**
   * Storage of the vectors of a collection this creates (`vectors.datatype`): 'float32' (Qdrant's
   * default; not sent) or 'float16' (half the memory; scores from half-precision vectors).
   */
  datatype?: 'float32' | 'float16';
  /** Serve the original vectors from disk (`vectors.on_disk`, memory-mapped). Default false (not sent). */
  onDisk?: boolean;
  /**
   * Read side: how long to wait for the collection to finish indexing (status green) before a
   * RetryableError. Default 3600000 (1 h: optimizing a multi-million-point collection takes long).
   */
  indexWaitMs?: number;
  /** Pause between two status polls while waiting. Default 1000. */
  indexPollMs?: number;
  /** Where progress lines of that wait go. Default: the process logger. */
  log?: (line: string) => void;
  /** Points per upsert request. Default 256. */
  batchSize?: number;
  /** Per request attempt. Default 60000. */
  timeoutMs?: number;
  /** Retries of a request after a 5xx, 408, 429, timeout or network error. Default 30. */
  maxRetries?: number;
  /** No retry starts after this many ms since the first try. Default NEXTLONG_RETRY_BUDGET_MS or 90000 (rides out a 60 s outage). */
  retryBudgetMs?: number;
  /**
   * `retriever: bm25`: the collection also holds each chunk's BM25 terms as the sparse vector
   * `bm25` (`modifier: idf`), written by upsert (qdrant-sparse.ts). Default false.
   */
  bm25?: boolean;
  /** Search beam: `hnsw_ef` = max(limit, efSearch). Default 512 (the segments default). */
  efSearch?: number;
  /** First retry delay (doubling, with jitter, up to retryMaxMs). Defaults 250 and 10000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Bounds of the per-process cache of returned hits. Defaults 2^20 refs, 2^26 text chars. */
  cacheRefs?: number;
  cacheTextChars?: number;
  signal?: AbortSignal;
}

/** Options with their defaults filled in (the API key and signal stay with the caller). */
export type Resolved = Required<Omit<OpenQdrantOptions, 'apiKey' | 'signal'>>;

/** Fills in the defaults and checks every option: a bad one is a ConfigError naming it and what is allowed. */
export function resolve(opts: OpenQdrantOptions): Resolved {
  const o: Resolved = {
    url: opts.url,
    collection: opts.collection,
    dim: opts.dim,
    create: opts.create ?? false,
    hnsw: opts.hnsw ?? { m: 16, efConstruct: 128 },
    quantization: opts.quantization ?? 'none',
    datatype: opts.datatype ?? 'float32',
    onDisk: opts.onDisk ?? false,
    indexWaitMs: opts.indexWaitMs ?? 3_600_000,
    indexPollMs: opts.indexPollMs ?? 1000,
    log: opts.log ?? ((line) => logger().info(line)),
    batchSize: opts.batchSize ?? 256,
    timeoutMs: opts.timeoutMs ?? 60_000,
    maxRetries: opts.maxRetries ?? 30,
    retryBudgetMs: opts.retryBudgetMs ?? retryBudgetMs(),
    efSearch: opts.efSearch ?? 512,
    bm25: opts.bm25 ?? false,
    retryBaseMs: opts.retryBaseMs ?? 250,
    retryMaxMs: opts.retryMaxMs ?? 10_000,
    cacheRefs: opts.cacheRefs ?? 1 << 20,
    cacheTextChars: opts.cacheTextChars ?? 1 << 26,
  };
  const bad = (field: string, allowed: string) => new ConfigError(`invalid Qdrant option ${field}: ${allowed}`);
  if (typeof o.collection !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(o.collection))
    throw bad('collection', 'a name of 1-255 characters from A-Z a-z 0-9 _ . -');
  const positive = { dim: o.dim, batchSize: o.batchSize, timeoutMs: o.timeoutMs, efSearch: o.efSearch, cacheRefs: o.cacheRefs };
  for (const [field, v] of Object.entries(positive)) if (!Number.isInteger(v) || v <= 0) throw bad(field, 'a positive integer');
  for (const [field, v] of Object.entries({
    maxRetries: o.maxRetries,
    retryBudgetMs: o.retryBudgetMs,
    retryBaseMs: o.retryBaseMs,
    retryMaxMs: o.retryMaxMs,
    cacheTextChars: o.cacheTextChars,
    indexWaitMs: o.indexWaitMs,
    indexPollMs: o.indexPollMs,
  }))
    if (!Number.isInteger(v) || v < 0) throw bad(field, 'an integer ≥ 0');
  if (!Number.isInteger(o.hnsw.m) || o.hnsw.m < 2) throw bad('hnsw.m', 'an integer ≥ 2');
  if (!Number.isInteger(o.hnsw.efConstruct) || o.hnsw.efConstruct < 4) throw bad('hnsw.efConstruct', 'an integer ≥ 4');
  if (o.quantization !== 'int8' && o.quantization !== 'none') throw bad('quantization', "'int8' or 'none'");
  if (o.datatype !== 'float32' && o.datatype !== 'float16') throw bad('datatype', "'float32' or 'float16'");
  if (typeof o.onDisk !== 'boolean') throw bad('onDisk', 'true or false');
  return o;
}
