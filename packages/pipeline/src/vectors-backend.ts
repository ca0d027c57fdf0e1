import { ConfigError, type VectorBackend } from '@nextlong/core';
import type { StreamingObjectStore } from '@nextlong/storage';
import { openQdrantIndex, QdrantBackend, SegmentsBackend, type QdrantVectorIndex } from '@nextlong/vectors';
import type { RunPlan } from './run-state.js';

/** Qdrant settings from the environment (DESIGN §5); required when `vectors: qdrant`. */
export function qdrantSettings(env: NodeJS.ProcessEnv = process.env): { url: string; apiKey?: string } {
  const url = env.QDRANT_URL;
  if (!url) throw new ConfigError('vectors: qdrant needs QDRANT_URL (and QDRANT_API_KEY if the server requires one)');
  return { url, apiKey: env.QDRANT_API_KEY || undefined };
}

/** One collection per run: re-running the same run upserts the same deterministic point ids. */
export const collectionOf = (plan: RunPlan) => `nextlong-${plan.runId}`;

/** The run's collection options (everything but dimensions and create). */
function qdrantOptions(plan: RunPlan) {
  const c = plan.config;
  return {
    ...qdrantSettings(),
    collection: collectionOf(plan),
    hnsw: { m: c.hnswConnectivity, efConstruct: c.hnswExpansionAdd },
    efSearch: c.hnswExpansionSearch,
    datatype: c.qdrantDatatype,
    onDisk: c.qdrantVectorStorage === 'disk',
    quantization: c.qdrantQuantization,
    indexWaitMs: c.qdrantIndexWaitSeconds * 1000,
    bm25: c.retriever === 'bm25',
  };
}

/** The run's Qdrant collection itself, for what only Qdrant does (steps/duplicates-pool.ts deletes points). */
export function openQdrantForRun(plan: RunPlan, dim: number, create: boolean): Promise<QdrantVectorIndex> {
  return openQdrantIndex({ ...qdrantOptions(plan), dim, create });
}

/**
 * The one place that chooses the run's vector backend (DESIGN §2); every stage goes through the
 * VectorBackend port it returns. `dim` is asked only by a backend that needs it to open a searcher.
 */
export function vectorBackendFor(plan: RunPlan, store: StreamingObjectStore, dim: () => Promise<number>): VectorBackend {
  const c = plan.config;
  if (c.vectors === 'qdrant') return new QdrantBackend(qdrantOptions(plan), dim);
  return new SegmentsBackend(
    store,
    {
      connectivity: c.hnswConnectivity,
      expansionAdd: c.hnswExpansionAdd,
      expansionSearch: c.hnswExpansionSearch,
      partitionChunks: c.indexPartitionChunks,
      vectorType: c.vectorType,
      threads: c.indexThreads || undefined, // 0: the cores available
    },
    {
      // A remote index is downloaded once per host, into a cache every process shares (kept after close).
      cacheDir: process.env.NEXTLONG_INDEX_CACHE_DIR || undefined,
      expansionSearch: c.hnswExpansionSearch,
    },
    c.retriever === 'bm25',
  );
}
