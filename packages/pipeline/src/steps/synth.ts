import { buildSequence, PermanentError, sequenceParams, type SequenceRecord, type Tokenizer } from '@nextlong/core';
import { metrics } from '@nextlong/metrics';
import { readShard, type ShardSpec } from '@nextlong/storage';
import { rawTokenizer } from '@nextlong/tokenizers';
import type { RunContext } from '../context.js';
import { addScore, emptyStats, type ShardStats } from '../stats.js';
import { duplicateError, readShardDuplicates } from './duplicates.js';
import { checkBadShare, recordReject, RejectLog } from './rejects.js';
import { SequenceSinks } from './sinks.js';

/** Synth step: one sequence per (sampled) document of an input shard, in input order. */
export async function synthShard(
  ctx: RunContext,
  shard: ShardSpec,
  onProgress: (docs: number) => void,
  signal?: AbortSignal,
): Promise<ShardStats> {
  const { config: c, charsPerToken } = ctx.plan;
  const stats = emptyStats('synth', shard.id);
  const ports = { searcher: await ctx.getSearcher(), embedder: await ctx.getEmbedder(), tokenizer: ctx.tokenizer };
  const params = sequenceParams(c, charsPerToken);
  const verify = c.verifyTokens ? rawTokenizer(ports.tokenizer) : undefined;
  const sample = ctx.plan.sample ? new Set(ctx.plan.sample[shard.id] ?? []) : undefined;
  const rejects = new RejectLog(shard);
  // later occurrences of an id (found by the index step): rejected, sampled or not
  const duplicates = await readShardDuplicates(ctx.store, shard.id);
  const out = await SequenceSinks.open(ctx, shard.id);
  try {
    for await (const item of readShard(shard, c)) {
      signal?.throwIfAborted();
      stats.documents_read++;
      // every bad record is reported, sampled or not
      if ('bad' in item) {
        recordReject(stats, rejects, item.line, item.bad);
        continue;
      }
      const dup = duplicates.get(item.line);
      if (dup) {
        recordReject(stats, rejects, item.line, duplicateError(dup), { first: dup.first });
        continue;
      }
      if (sample && !sample.has(item.ordinal)) {
        stats.documents_unsampled++;
        continue;
      }
      onProgress(1);
      const r = await buildSequence(item.doc, ports, params, signal);
      stats.negatives_shortfall += r.stats.shortfall;
      for (const [k, v] of Object.entries(r.stats.skips)) stats.skipped[k as keyof ShardStats['skipped']] += v;
      for (const s of r.stats.randomScores) addScore(stats.random_score, s);
      if (r.kind === 'discarded') {
        stats.sequences_discarded[r.reason] = (stats.sequences_discarded[r.reason] ?? 0) + 1;
        continue;
      }
      for (const s of r.stats.scores) {
        addScore(stats.score, s);
        metrics.negativeScore.observe(s);
      }
      stats.negatives += r.stats.negatives;
      if (verify) verifySequenceTokens(verify, r.record, r.ids, shard.id);
      stats.sequences_written++;
      stats.output_tokens += r.record.num_tokens;
      await out.write(r.record, r.ids, signal);
    }
    checkBadShare(stats, c.maxBadShare);
    await out.finish(signal);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await rejects.save(ctx.store);
  return stats;
}

/** `verifyTokens`: the record's text, tokenized whole by the raw tokenizer, must give exactly its ids. */
export function verifySequenceTokens(raw: Tokenizer, record: SequenceRecord, ids: Uint32Array, shardId: string): void {
  const want = raw.encode(record.text);
  let i = 0;
  while (i < want.length && i < ids.length && want[i] === ids[i]) i++;
  if (i === want.length && i === ids.length && record.num_tokens === ids.length) return;
  throw new PermanentError(
    `verify-tokens: sequence ${JSON.stringify(record.id)} of shard ${shardId}: ${raw.name} gives ${want.length} tokens for its text, ` +
      `the record has num_tokens ${record.num_tokens} and ${ids.length} ids` +
      (i < Math.min(want.length, ids.length) ? ` (first difference at token ${i}: ${want[i]} vs ${ids[i]})` : ''),
  );
}
