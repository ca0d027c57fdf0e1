import { ConfigError, type ChunkPoint } from '@nextlong/core';
import { metrics } from '@nextlong/metrics';
import { openQdrantIndex, writeSegment, type QdrantVectorIndex } from '@nextlong/vectors';
import type { RunPlan } from './run-state.js';
import type { StreamingObjectStore } from '@nextlong/storage';

/** Qdrant settings from the environment (DESIGN §5); required when `vectors: qdrant`. */
export function qdrantSettings(env: NodeJS.ProcessEnv = process.env): { url: string; apiKey?: string } {
  const url = env.QDRANT_URL;
  if (!url) throw new ConfigError('vectors: qdrant needs QDRANT_URL (and QDRANT_API_KEY if the server requires one)');
  return { url, apiKey: env.QDRANT_API_KEY || undefined };
}

/** One collection per run: re-running the same run upserts the same deterministic point ids. */
export const collectionOf = (plan: RunPlan) => `nextlong-${plan.runId}`;

export function openQdrantForRun(plan: RunPlan, dim: number, create: boolean): Promise<QdrantVectorIndex> {
  const c = plan.config;
  return openQdrantIndex({
    ...qdrantSettings(),
    collection: collectionOf(plan),
    dim,
    create,
    hnsw: { m: c.hnswConnectivity, efConstruct: c.hnswExpansionAdd },
    efSearch: c.hnswExpansionSearch,
    datatype: c.qdrantDatatype,
    onDisk: c.qdrantVectorStorage === 'disk',
    quantization: c.qdrantQuantization,
    indexWaitMs: c.qdrantIndexWaitSeconds * 1000,
  });
}

/** The embed step's output: an index segment, or points upserted into Qdrant. */
export async function storePoints(plan: RunPlan, store: StreamingObjectStore, shardId: string, points: ChunkPoint[], dim: number, signal?: AbortSignal): Promise<void> {
  if (plan.config.vectors === 'segments') {
    const end = metrics.uploadSeconds.startTimer();
    await writeSegment(store, shardId, points, dim, signal);
    end();
    return;
  }
  const index = await openQdrantForRun(plan, dim, true);
  try {
    const end = metrics.vectorUpsertSeconds.startTimer();
    await index.upsert(points, signal);
    end();
  } finally {
    await index.close();
  }
}

