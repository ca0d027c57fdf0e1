import { PermanentError, type Tokenizer } from '@nextlong/core';
import { metrics } from '@nextlong/metrics';
import { readShard, type ShardSpec } from '@nextlong/storage';
import { rawTokenizer } from '@nextlong/tokenizers';
import type { RunContext } from '../context.js';
import type { Made, OutputRecord } from '../methods/makers.js';
import { sequenceMaker } from '../methods/sequence-maker.js';
import { addScore, emptyStats, type ShardStats } from '../stats.js';
import { duplicateError, readShardDuplicates } from './duplicates.js';
import { checkBadShare, recordReject, RejectLog } from './rejects.js';
import { SequenceSinks } from './sinks.js';

/**
 * Synth step: one sequence per (sampled) document of an input shard, in input order (`iclm`:
 * the shard's documents along its path, cut into sequences at the end of the shard).
 */
export async function synthShard(
  ctx: RunContext,
  shard: ShardSpec,
  onProgress: (docs: number) => void,
  signal?: AbortSignal,
): Promise<ShardStats> {
  const { config: c } = ctx.plan;
  const stats = emptyStats('synth', shard.id);
  const make = await sequenceMaker(ctx, signal);
  const verify = c.verifyTokens ? rawTokenizer(ctx.tokenizer) : undefined;
  const sample = ctx.plan.sample ? new Set(ctx.plan.sample[shard.id] ?? []) : undefined;
  const rejects = new RejectLog(shard);
  // later occurrences of an id (found by the index step): rejected, sampled or not
  const duplicates = await readShardDuplicates(ctx.store, shard.id);
  const out = await SequenceSinks.open(ctx, shard.id);
  const emit = async (made: Made[]) => {
    for (const m of made) {
      const record = account(stats, m);
      if (!record) continue;
      const { ids } = m.outcome as { ids: Uint32Array };
      if (verify) verifySequenceTokens(verify, record, ids, shard.id);
      await out.write(record, ids, signal);
    }
  };
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
      await emit(await make.add(item.doc, signal));
    }
    await emit(await make.finish(signal));
    checkBadShare(stats, c.maxBadShare);
    await out.finish(signal);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await rejects.save(ctx.store);
  return stats;
}

/** What the shard makes of one sequence, in the stats; the record to write, if written. */
function account(stats: ShardStats, m: Made): OutputRecord | undefined {
  stats.negatives_shortfall += m.shortfall;
  for (const [k, v] of Object.entries(m.skips ?? {})) stats.skipped[k as keyof ShardStats['skipped']] += v;
  for (const s of m.randomScores) addScore(stats.random_score, s);
  stats.documents_merged += m.merged;
  if (m.outcome.kind === 'discarded') {
    stats.sequences_discarded[m.outcome.reason] = (stats.sequences_discarded[m.outcome.reason] ?? 0) + 1;
    return undefined;
  }
  for (const s of m.scores) {
    addScore(stats.score, s);
    metrics.negativeScore.observe(s);
  }
  stats.negatives += m.negatives;
  stats.sequences_written++;
  stats.output_tokens += m.outcome.record.num_tokens;
  return m.outcome.record;
}

/** `verifyTokens`: the record's text, tokenized whole by the raw tokenizer, must give exactly its ids. */
export function verifySequenceTokens(
  raw: Tokenizer,
  record: Pick<OutputRecord, 'id' | 'text' | 'num_tokens'>,
  ids: Uint32Array,
  shardId: string,
): void {
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
