import { groupSegments, textHash, type ChunkPoint } from '@nextlong/core';
import { readShard, type ShardSpec } from '@nextlong/storage';
import type { RunContext } from '../context.js';
import { emptyStats, type ShardStats } from '../stats.js';
import { writeIds, type IdEntry } from './duplicates.js';
import { checkBadShare, recordReject, RejectLog } from './rejects.js';

/** Embed step: read a pool shard, chunk every document, embed, hand the points to the vector backend. */
export async function embedShard(
  ctx: RunContext,
  shard: ShardSpec,
  onProgress: (docs: number) => void,
  signal?: AbortSignal,
): Promise<ShardStats> {
  const c = ctx.plan.config;
  const stats = emptyStats('embed', shard.id);
  const embedder = await ctx.getEmbedder();
  // when the pool is the input, the synth stage reports this shard's bad records
  const rejects = ctx.plan.poolIsInput ? undefined : new RejectLog(shard);
  const points: ChunkPoint[] = [];
  let pending: Omit<ChunkPoint, 'vector'>[] = [];
  // the latest group's embed() call: its points land after the group before it (input order)
  let embedded: Promise<void> = Promise.resolve();
  /**
   * Hands the pending group to the embedder, then waits for the group before it: the embedder
   * tokenizes this group (and the shard is read on) while the model runs the previous one.
   */
  const flush = async () => {
    if (pending.length === 0) return;
    const group = pending;
    pending = [];
    const vectors = embedder.embed(
      group.map((p) => p.text),
      signal,
    );
    const previous = embedded;
    embedded = previous.then(async () => {
      const vs = await vectors;
      group.forEach((p, i) => points.push({ ...p, vector: vs[i]! }));
    });
    // a failure surfaces once, where its group is awaited; the other handles only mark it seen
    vectors.catch(() => {});
    embedded.catch(() => {});
    await previous;
  };
  // every valid record's id, for the index step's duplicate check (steps/duplicates.ts)
  const ids: IdEntry[] = [];
  const seen = new Set<string>();
  for await (const item of readShard(shard, c)) {
    stats.documents_read++;
    if ('bad' in item) {
      recordReject(stats, rejects, item.line, item.bad);
      continue;
    }
    const chunks = groupSegments(item.doc.text, c.chunkChars);
    ids.push([item.line, item.doc.id, chunks.length]);
    // a later occurrence of an id in this shard is never embedded: the first one is the document
    if (seen.has(item.doc.id)) {
      onProgress(1);
      continue;
    }
    seen.add(item.doc.id);
    chunks.forEach((text, chunk) => {
      if (text.trim() !== '') pending.push({ docId: item.doc.id, chunk, text, hash: textHash(text) });
    });
    if (pending.length >= c.embedBatch * 4) await flush();
    onProgress(1);
  }
  await flush();
  await embedded;
  checkBadShare(stats, c.maxBadShare);
  stats.chunks_indexed = points.length;
  // the shard's points through the run's backend (a segment, or upserts into Qdrant)
  const writer = await ctx.vectors.open(shard.id, embedder.dim, signal);
  await writer.upsert(points, signal);
  await writer.close(signal);
  await writeIds(ctx.store, shard.id, ids);
  await rejects?.save(ctx.store);
  return stats;
}
