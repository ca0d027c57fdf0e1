import type { Embedder, VectorBackend, VectorSearcher } from '@nextlong/core';
import { metrics, timeAsync } from '@nextlong/metrics';
import type { ShardStats } from './stats.js';

/** An embedder whose calls are timed (`nextlong_embed_batch_seconds`) and counted. */
export function timedEmbedder(e: Embedder): Embedder {
  return {
    name: e.name,
    dim: e.dim,
    close: () => e.close(),
    async embed(texts, signal) {
      const end = metrics.embedBatchSeconds.startTimer();
      try {
        return await e.embed(texts, signal);
      } finally {
        end();
        metrics.chunksEmbedded.inc(texts.length);
      }
    },
  };
}

/** A searcher whose searches are timed (`nextlong_vector_search_seconds`). */
export function timedSearcher<Q>(s: VectorSearcher<Q>): VectorSearcher<Q> {
  return {
    get size() {
      return s.size;
    },
    texts: (keys, signal) => s.texts(keys, signal),
    scores: (q, keys, signal) => s.scores(q, keys, signal),
    sample: (count, rng, signal) => s.sample(count, rng, signal),
    close: () => s.close(),
    async search(queries, limit, exclude, signal) {
      const end = metrics.vectorSearchSeconds.startTimer();
      try {
        return await s.search(queries, limit, exclude, signal);
      } finally {
        end();
      }
    },
  };
}

/**
 * A backend whose writers are timed: upserts (`nextlong_vector_upsert_seconds`: the requests to
 * Qdrant) and closes (`nextlong_upload_seconds`: a segment's upload).
 */
export function timedBackend(b: VectorBackend): VectorBackend {
  return {
    name: b.name,
    seal: (opts) => b.seal(opts),
    openSearcher: (signal) => b.openSearcher(signal),
    openBm25Searcher: b.openBm25Searcher && ((signal) => b.openBm25Searcher!(signal)),
    async open(shardId, dim, signal) {
      const w = await b.open(shardId, dim, signal);
      return {
        upsert: (points, s) => timeAsync(metrics.vectorUpsertSeconds, () => w.upsert(points, s)),
        close: (s) => timeAsync(metrics.uploadSeconds, () => w.close(s)),
      };
    },
  };
}

/** Counters from a finished shard's stats: one place for both executors. */
export function recordShardMetrics(st: ShardStats): void {
  const stage = st.stage;
  metrics.documentsRead.inc({ stage }, st.documents_read);
  for (const [reason, n] of Object.entries(st.rejects_by_reason)) metrics.documentsRejected.inc({ stage, reason }, n);
  metrics.shardSeconds.observe({ stage }, st.seconds);
  if (stage !== 'synth') return;
  metrics.sequencesWritten.inc(st.sequences_written);
  for (const [reason, n] of Object.entries(st.sequences_discarded)) metrics.sequencesDiscarded.inc({ reason }, n);
  metrics.outputTokens.inc(st.output_tokens);
}
