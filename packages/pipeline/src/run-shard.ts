import type { ShardSpec } from '@nextlong/storage';
import type { RunContext } from './context.js';
import { recordShardMetrics } from './instrument.js';
import { isDone, keys, readStats, type Stage } from './run-state.js';
import { emptyStats, type ShardStats } from './stats.js';
import { resolveDuplicates } from './steps/duplicates.js';
import { embedShard } from './steps/embed.js';
import { synthShard } from './steps/synth.js';

export const INDEX_SHARD = 'index';

/**
 * Runs one shard of a stage unless its done marker exists. Outputs and stats are written
 * before the marker, so a crash at any point leaves the shard to be redone, never half-done.
 */
export async function runShard(
  ctx: RunContext,
  stage: Stage,
  shardId: string,
  onProgress: (units: number) => void = () => {},
  signal?: AbortSignal,
): Promise<ShardStats> {
  if (await isDone(ctx.store, stage, shardId)) return readStats<ShardStats>(ctx.store, stage, shardId);
  const started = performance.now();
  let stats: ShardStats;
  // duplicate ids are resolved before the index is built (steps/duplicates.ts)
  if (stage === 'index') await resolveDuplicates(ctx, signal);
  if (stage === 'index') {
    // after the barrier: the backend builds what a search needs (segments), or waits for Qdrant
    stats = emptyStats('index', shardId);
    let last = 0; // the backend reports a running total; progress takes increments
    stats.chunks_indexed = await ctx.vectors.seal({
      onProgress: (done) => {
        onProgress(done - last);
        last = done;
      },
      signal,
    });
  } else {
    const shard = findShard(ctx, stage, shardId);
    stats = stage === 'embed' ? await embedShard(ctx, shard, onProgress, signal) : await synthShard(ctx, shard, onProgress, signal);
  }
  stats.seconds = (performance.now() - started) / 1000;
  await ctx.store.put(keys.stats(stage, shardId), JSON.stringify(stats));
  await ctx.store.put(keys.done(stage, shardId), new Date().toISOString());
  recordShardMetrics(stats);
  return stats;
}

function findShard(ctx: RunContext, stage: Stage, id: string): ShardSpec {
  const list = stage === 'embed' ? ctx.plan.poolShards : ctx.plan.inputShards;
  const s = list.find((x) => x.id === id);
  if (!s) throw new Error(`unknown ${stage} shard ${id} in run ${ctx.plan.runId}`);
  return s;
}
