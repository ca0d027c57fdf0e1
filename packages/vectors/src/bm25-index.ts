import { bm25Idf, type ChunkRef, type Hit, type ObjectStore, type Rng, type SparseQuery, type VectorSearcher } from '@nextlong/core';
import { createHash } from 'node:crypto';
import { BM25_DESCRIPTOR_KEY, BM25_FILE_KEY, type Bm25Descriptor } from './bm25-build.js';
import { openSegmentsIndex, type OpenSegmentsOptions, type SegmentsVectorIndex } from './segments-index.js';

/** Opens the BM25 index (bm25-build.ts) beside the segments index it was built from. */
export async function openBm25Index(store: ObjectStore, opts: Omit<OpenSegmentsOptions, 'exact'> = {}): Promise<Bm25Index> {
  const where = `${store.root}/${BM25_DESCRIPTOR_KEY}`;
  if (!(await store.exists(BM25_DESCRIPTOR_KEY, opts.signal))) throw new Error(`${where}: no BM25 index (the index step of a run with retriever bm25 writes it)`);
  const desc = JSON.parse(Buffer.from(await store.get(BM25_DESCRIPTOR_KEY, opts.signal)).toString('utf8')) as Bm25Descriptor;
  if (desc.version !== 1) throw new Error(`${where}: version ${desc.version}, this reader knows 1`);
  const raw = await store.get(BM25_FILE_KEY, opts.signal);
  if (raw.byteLength !== desc.bytes || createHash('sha256').update(raw).digest('hex') !== desc.sha256)
    throw new Error(`${store.root}/${BM25_FILE_KEY}: size or sha256 differs from ${where}`);
  const chunks = await openSegmentsIndex(store, { ...opts, exact: true });
  if (chunks.size !== desc.chunks) {
    await chunks.close();
    throw new Error(`${where}: ${desc.chunks} chunks, the segments index has ${chunks.size}`);
  }
  return new Bm25Index(desc, Buffer.from(raw), chunks);
}

/**
 * The `bm25` retriever's searcher: BM25 scores (core/bm25.ts) by exact term-at-a-time
 * accumulation over the postings, ties by ascending key; chunks sharing no term with the query
 * are no candidates (a list can be shorter than the limit). Keys, texts and random draws are the
 * segments searcher's, over the same chunks.
 */
export class Bm25Index implements VectorSearcher<SparseQuery> {
  readonly size: number;
  private readonly terms: Uint32Array;
  private readonly offsets: Uint32Array;
  private readonly keys: Uint32Array;
  private readonly weights: Float32Array;
  private readonly acc: Float64Array;

  constructor(
    readonly descriptor: Bm25Descriptor,
    raw: Buffer,
    private readonly chunks: SegmentsVectorIndex,
  ) {
    const copy = new Uint8Array(raw.byteLength); // aligned views
    copy.set(raw);
    const { terms: T, postings: P } = descriptor;
    let at = 0;
    const take = <A>(C: new (b: ArrayBuffer, o: number, n: number) => A, n: number): A => {
      const a = new C(copy.buffer, at, n);
      at += n * 4;
      return a;
    };
    this.terms = take(Uint32Array, T);
    this.offsets = take(Uint32Array, T + 1);
    this.keys = take(Uint32Array, P);
    this.weights = take(Float32Array, P);
    this.size = descriptor.chunks;
    this.acc = new Float64Array(this.size);
  }

  /** Postings range and idf of term `id` (none when no chunk holds it). */
  private term(id: number): { from: number; to: number; idf: number } | undefined {
    let lo = 0;
    let hi = this.terms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.terms[mid]!;
      if (t === id) {
        const from = this.offsets[mid]!;
        const to = this.offsets[mid + 1]!;
        return { from, to, idf: bm25Idf(this.size, to - from) };
      }
      if (t < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  async search(queries: SparseQuery[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`search limit must be an integer ≥ 0, got ${limit}`);
    const excluded = this.chunks.docOrdinal(excludeDocId);
    const out: Hit[][] = [];
    for (const q of queries) {
      signal?.throwIfAborted();
      out.push(limit === 0 ? [] : this.searchOne(q, limit, excluded));
      await new Promise((r) => setImmediate(r)); // one query at a time: the event loop breathes between them
    }
    return out;
  }

  private searchOne(q: SparseQuery, limit: number, excluded: number): Hit[] {
    const { acc } = this;
    const touched: number[] = [];
    for (let i = 0; i < q.indices.length; i++) {
      const t = this.term(q.indices[i]!);
      if (!t) continue;
      const w = t.idf * q.values[i]!;
      for (let j = t.from; j < t.to; j++) {
        const key = this.keys[j]!;
        if (acc[key] === 0) touched.push(key);
        acc[key] += w * this.weights[j]!;
      }
    }
    let ranked = touched.filter((k) => this.chunks.docOrdinalOf(k) !== excluded);
    if (ranked.length > 2 * limit) {
      // only what can make the list is sorted with the tie-break: scores ≥ the limit-th best
      const sorted = Float64Array.from(ranked, (k) => acc[k]!).sort();
      const floor = sorted[sorted.length - limit]!;
      ranked = ranked.filter((k) => acc[k]! >= floor);
    }
    ranked.sort((a, b) => acc[b]! - acc[a]! || a - b);
    const hits = ranked.slice(0, limit).map((k) => this.chunks.refOf(k, acc[k]!));
    for (const k of touched) acc[k] = 0;
    return hits;
  }

  async scores(query: SparseQuery, keys: number[]): Promise<number[]> {
    return keys.map((key) => {
      if (!Number.isInteger(key) || key < 0 || key >= this.size) throw new Error(`chunk key ${key} is out of range 0..${this.size - 1}`);
      let s = 0;
      for (let i = 0; i < query.indices.length; i++) {
        const t = this.term(query.indices[i]!);
        if (!t) continue;
        const j = lowerBound(this.keys, t.from, t.to, key);
        if (j < t.to && this.keys[j] === key) s += t.idf * query.values[i]! * this.weights[j]!;
      }
      return s;
    });
  }

  texts(keys: number[], signal?: AbortSignal): Promise<string[]> {
    return this.chunks.texts(keys, signal);
  }

  sample(count: number, rng: Rng): Promise<ChunkRef[]> {
    return this.chunks.sample(count, rng);
  }

  close(): Promise<void> {
    return this.chunks.close();
  }
}

function lowerBound(a: Uint32Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
