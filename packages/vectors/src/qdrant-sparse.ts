import { bm25Weight, termCounts, type ChunkRef, type Hit, type Rng, type SparseQuery, type VectorSearcher } from '@nextlong/core';
import type { Schemas } from '@qdrant/js-client-rest';

/**
 * `retriever: bm25` on Qdrant: each point also holds its chunk's terms as the sparse vector
 * `bm25` of a collection created with `sparse_vectors: {bm25: {modifier: "idf"}}`; Qdrant
 * multiplies by idf(t) = ln(1 + (N − n(t) + 0.5)/(n(t) + 0.5)) at query time, over the whole
 * collection (core/bm25.ts has the same formula). The document side is the saturated,
 * length-normalized tf of core/bm25.ts, with one difference: an embed worker cannot know the
 * pool's mean chunk length, so the length norm uses a fixed BM25_QDRANT_AVG_LENGTH (as Qdrant's
 * own BM25 encoder does with its avg_len). Scores therefore differ a little from the segments
 * backend's, which uses the pool's true mean.
 */
export const SPARSE_NAME = 'bm25';
/** Terms in a chunk of ~2048 characters of English prose (docs-a: 1 term per ~5.9 characters). */
export const BM25_QDRANT_AVG_LENGTH = 340;

/** The sparse `bm25` vector of a chunk text (indices ascending, as Qdrant keeps them). */
export function sparseDocVector(text: string): Schemas['SparseVector'] {
  const { counts, length } = termCounts(text);
  const indices = [...counts.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((t) => Math.fround(bm25Weight(counts.get(t)!, length, BM25_QDRANT_AVG_LENGTH))) };
}

export const sparseCreateConfig = (): Record<string, Schemas['SparseVectorParams']> => ({ [SPARSE_NAME]: { modifier: 'idf' } });

/** A BM25 query of `query/batch` (payload as the dense search asks, so hits are made alike). */
export function sparseSearch(q: SparseQuery, limit: number, filter: Schemas['Filter'], withPayload: string[]): Schemas['QueryRequest'] {
  return { query: { indices: Array.from(q.indices), values: Array.from(q.values) }, using: SPARSE_NAME, filter, limit, with_payload: withPayload };
}

/** What the BM25 searcher needs of the Qdrant index: its queries, hit identity, texts and draws. */
export interface SparseHost {
  readonly size: number;
  runQueries(searches: Schemas['QueryRequest'][], excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]>;
  pointIdsOf(keys: number[]): string[];
  texts(keys: number[], signal?: AbortSignal): Promise<string[]>;
  sample(count: number, rng: Rng, signal?: AbortSignal): Promise<ChunkRef[]>;
  close(): Promise<void>;
}

/** The bm25 retriever's searcher on Qdrant: BM25 queries on the sparse vectors of the same points. */
export class QdrantBm25Searcher implements VectorSearcher<SparseQuery> {
  constructor(private readonly ix: SparseHost) {}

  get size(): number {
    return this.ix.size;
  }

  async search(queries: SparseQuery[], limit: number, excludeDocId: string, signal?: AbortSignal): Promise<Hit[][]> {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`search limit must be an integer ≥ 0, got ${limit}`);
    if (queries.length === 0) return [];
    if (limit === 0) return queries.map(() => []);
    const filter: Schemas['Filter'] = { must_not: [{ key: 'doc_id', match: { value: excludeDocId } }] };
    return this.ix.runQueries(
      queries.map((q) => sparseSearch(q, limit, filter, ['doc_id', 'chunk', 'hash'])),
      excludeDocId,
      signal,
    );
  }

  /** BM25 of chunks `keys`: the same query restricted to their point ids (0 for a chunk sharing no term). */
  async scores(query: SparseQuery, keys: number[], signal?: AbortSignal): Promise<number[]> {
    if (keys.length === 0) return [];
    const ids = [...new Set(this.ix.pointIdsOf(keys))];
    const filter: Schemas['Filter'] = { must: [{ has_id: ids }] };
    const [hits] = await this.ix.runQueries([sparseSearch(query, ids.length, filter, ['doc_id', 'chunk', 'hash'])], '', signal);
    const byKey = new Map(hits!.map((h) => [h.key, h.score]));
    return keys.map((k) => byKey.get(k) ?? 0);
  }

  texts(keys: number[], signal?: AbortSignal): Promise<string[]> {
    return this.ix.texts(keys, signal);
  }

  sample(count: number, rng: Rng, signal?: AbortSignal): Promise<ChunkRef[]> {
    return this.ix.sample(count, rng, signal);
  }

  close(): Promise<void> {
    return this.ix.close();
  }
}
