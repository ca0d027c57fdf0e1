import { groupSegments, PermanentError, textHash, type ChunkPoint } from '@nextlong/core';
import { readShard, type ShardSpec } from '@nextlong/storage';
import { decodeSegment, segmentKey, segmentPoints, writeSegment } from '@nextlong/vectors';
import type { RunContext } from '../context.js';
import { openQdrantForRun } from '../vectors-backend.js';

/** A later occurrence of an id in another shard than its first one (within a shard, embed skips it). */
export interface Contested {
  id: string;
  /** Plan index of the first occurrence's shard, and its line. */
  firstShard: number;
  firstLine: number;
  /** Plan index of the later occurrence's shard, and how many chunks it had. */
  laterShard: number;
  laterChunks: number;
}

/**
 * Leaves the pool holding exactly the first occurrence's chunks of every contested id.
 *
 * `segments`: the later shard's segment still has its own chunks of that id; they are dropped
 * from the segment (rewritten before the build reads it; running this again changes nothing).
 * `qdrant`: point ids are UUIDv5(doc id, chunk), so the shards overwrote each other's points in
 * whatever order they ran. The first occurrence is read again, embedded and upserted (the same
 * ids: it overwrites), and point ids only a later occurrence had (more chunks) are deleted. The
 * cost is one read of each shard holding a first occurrence, and embedding those documents.
 */
export async function dropLaterFromPool(ctx: RunContext, shards: ShardSpec[], contested: Contested[], signal?: AbortSignal): Promise<void> {
  if (contested.length === 0) return;
  if (ctx.plan.config.vectors === 'segments') await dropFromSegments(ctx, shards, contested, signal);
  else await restoreInQdrant(ctx, shards, contested, signal);
}

async function dropFromSegments(ctx: RunContext, shards: ShardSpec[], contested: Contested[], signal?: AbortSignal): Promise<void> {
  const byShard = new Map<number, Set<string>>();
  for (const c of contested) {
    if (!byShard.has(c.laterShard)) byShard.set(c.laterShard, new Set());
    byShard.get(c.laterShard)!.add(c.id);
  }
  for (const [i, ids] of byShard) {
    const shardId = shards[i]!.id;
    const key = segmentKey(shardId);
    const seg = decodeSegment(await ctx.store.get(key, signal), `${ctx.store.root}/${key}`);
    if (!seg.docIds.some((d) => ids.has(d))) continue;
    const kept = segmentPoints(seg).filter((p) => !ids.has(p.docId));
    await writeSegment(ctx.store, shardId, kept, seg.dim, signal);
  }
}

async function restoreInQdrant(ctx: RunContext, shards: ShardSpec[], contested: Contested[], signal?: AbortSignal): Promise<void> {
  // per shard of a first occurrence: line → (id, the most chunks a later occurrence had)
  const byShard = new Map<number, Map<number, { id: string; laterChunks: number }>>();
  for (const c of contested) {
    if (!byShard.has(c.firstShard)) byShard.set(c.firstShard, new Map());
    const lines = byShard.get(c.firstShard)!;
    const cur = lines.get(c.firstLine);
    lines.set(c.firstLine, { id: c.id, laterChunks: Math.max(cur?.laterChunks ?? 0, c.laterChunks) });
  }
  const embedder = await ctx.getEmbedder();
  const index = await openQdrantForRun(ctx.plan, embedder.dim, false);
  const c = ctx.plan.config;
  try {
    for (const [i, lines] of [...byShard].sort((a, b) => a[0] - b[0])) {
      const shard = shards[i]!;
      const last = Math.max(...lines.keys());
      let restored = 0;
      for await (const item of readShard(shard, c)) {
        if (item.line > last) break;
        const want = lines.get(item.line);
        if (!want) continue;
        if (!('doc' in item) || item.doc.id !== want.id) {
          throw new PermanentError(
            `${shard.file}: line ${item.line} no longer holds id ${JSON.stringify(want.id)} (changed since its embed step?)`,
          );
        }
        const points: Omit<ChunkPoint, 'vector'>[] = [];
        groupSegments(item.doc.text, c.chunkChars).forEach((text, chunk) => {
          if (text.trim() !== '') points.push({ docId: want.id, chunk, text, hash: textHash(text) });
        });
        const vectors = points.length
          ? await embedder.embed(
              points.map((p) => p.text),
              signal,
            )
          : [];
        await index.upsert(
          points.map((p, j) => ({ ...p, vector: vectors[j]! })),
          signal,
        );
        const own = new Set(points.map((p) => p.chunk));
        const extra = Array.from({ length: want.laterChunks }, (_, k) => k).filter((k) => !own.has(k));
        await index.deleteChunks(want.id, extra, signal);
        restored++;
      }
      if (restored !== lines.size)
        throw new PermanentError(`${shard.file}: ${lines.size - restored} first occurrence(s) of duplicate ids not found again`);
    }
  } finally {
    await index.close();
  }
}
