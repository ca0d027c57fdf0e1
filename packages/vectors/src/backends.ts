import type { ChunkPoint, ObjectStore, SparseQuery, VectorBackend, VectorSearcher, VectorWriter } from '@nextlong/core';
import { buildBm25Index } from './bm25-build.js';
import { openBm25Index } from './bm25-index.js';
import { openQdrantIndex, type OpenQdrantOptions, type QdrantVectorIndex } from './qdrant-index.js';
import { QdrantBm25Searcher } from './qdrant-sparse.js';
import { writeSegment } from './segment-format.js';
import { buildSegmentsIndex, type BuildSegmentsOptions } from './segments-build.js';
import { openSegmentsIndex, type OpenSegmentsOptions } from './segments-index.js';

/**
 * The two vector backends behind the one port (DESIGN §2). The pipeline picks one per run
 * (pipeline/vectors-backend.ts) and sees nothing else of them.
 */

/** `segments`: each embed shard writes one index segment; sealing builds the ANN index from all of them. */
export class SegmentsBackend implements VectorBackend {
  readonly name = 'segments';
  constructor(
    private readonly store: ObjectStore,
    private readonly build: Omit<BuildSegmentsOptions, 'onProgress' | 'signal'>,
    private readonly read: Omit<OpenSegmentsOptions, 'signal'> = {},
    /** Also build the BM25 index of the chunk texts when sealing (`retriever: bm25`). */
    private readonly bm25 = false,
  ) {}

  /** Points are kept until close: a segment is one object, written whole (a retry overwrites it). */
  async open(shardId: string, dim: number): Promise<VectorWriter> {
    const points: ChunkPoint[] = [];
    let closed = false;
    return {
      upsert: async (ps) => {
        if (closed) throw new Error(`segment writer of shard ${shardId} is closed`);
        for (const p of ps) points.push(p);
      },
      close: async (signal) => {
        if (closed) return;
        closed = true;
        await writeSegment(this.store, shardId, points, dim, signal);
      },
    };
  }

  async seal(opts: { onProgress?: (chunksDone: number) => void; signal?: AbortSignal }): Promise<number> {
    const built = await buildSegmentsIndex(this.store, { ...this.build, onProgress: opts.onProgress, signal: opts.signal });
    if (this.bm25) await buildBm25Index(this.store, opts.signal);
    return built.chunks;
  }

  openSearcher(signal?: AbortSignal): Promise<VectorSearcher> {
    return openSegmentsIndex(this.store, { ...this.read, signal });
  }

  openBm25Searcher(signal?: AbortSignal): Promise<VectorSearcher<SparseQuery>> {
    return openBm25Index(this.store, { ...this.read, signal });
  }
}

/** `qdrant`: writers upsert into the run's collection (created on first use); Qdrant indexes as points arrive. */
export class QdrantBackend implements VectorBackend {
  readonly name = 'qdrant';
  constructor(
    private readonly opts: Omit<OpenQdrantOptions, 'dim' | 'create' | 'signal'>,
    /** The collection's dimensions on the read side (the embedder's), asked only when needed. */
    private readonly dim: () => Promise<number>,
  ) {}

  async open(_shardId: string, dim: number, signal?: AbortSignal): Promise<VectorWriter> {
    const ix = await openQdrantIndex({ ...this.opts, dim, create: true, signal });
    return { upsert: (ps, s) => ix.upsert(ps, s), close: () => ix.close() };
  }

  /** Nothing to build: sealing waits until the collection has finished indexing, and counts it. */
  async seal(opts: { signal?: AbortSignal }): Promise<number> {
    const ix = await this.openSearcher(opts.signal);
    try {
      return ix.size;
    } finally {
      await ix.close();
    }
  }

  async openSearcher(signal?: AbortSignal): Promise<QdrantVectorIndex> {
    return openQdrantIndex({ ...this.opts, dim: await this.dim(), create: false, signal });
  }

  /** BM25 over the sparse vectors the writers stored beside the dense ones (with the `bm25` option). */
  async openBm25Searcher(signal?: AbortSignal): Promise<VectorSearcher<SparseQuery>> {
    if (!this.opts.bm25) throw new Error('this Qdrant backend stores no BM25 sparse vectors (open it with bm25: true)');
    return new QdrantBm25Searcher(await this.openSearcher(signal));
  }
}
