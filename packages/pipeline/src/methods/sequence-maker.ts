import { buildSequence, sequenceParams, type SequenceRecord } from '@nextlong/core';
import type { RunContext } from '../context.js';
import { createMaker, type Made, type OutputRecord, type SequenceMaker } from './makers.js';

/** The synth step's sequence maker for the run's `method`. */
export async function sequenceMaker(ctx: RunContext, signal?: AbortSignal): Promise<SequenceMaker> {
  const c = ctx.plan.config;
  const embedder = await ctx.getEmbedder();
  if (c.method !== 'nextlong') {
    const fill = { method: c.method, tokenizer: ctx.tokenizer, targetTokens: c.targetTokens, separator: c.separator };
    return createMaker(c.method, { config: c, embedder, fill, owner: ctx, store: ctx.store }, signal);
  }
  const ports = { ...(await ctx.getRetrieval()), tokenizer: ctx.tokenizer }; // dense or bm25 searcher + its query encoder
  const params = sequenceParams(c, ctx.plan.charsPerToken);
  return {
    async add(doc, signal) {
      const r = await buildSequence(doc, ports, params, signal);
      const s = r.stats;
      const base = { randomScores: s.randomScores, merged: 0, negatives: s.negatives, shortfall: s.shortfall, skips: s.skips };
      if (r.kind === 'discarded') return [{ outcome: { kind: 'discarded', reason: r.reason }, scores: [], ...base } satisfies Made];
      return [{ outcome: { kind: 'written', record: withMethod(r.record), ids: r.ids }, scores: s.scores, ...base }];
    },
    async finish() {
      return [];
    },
  };
}

/** The record with `method` after `meta_doc_id`; every other field (and its order) kept. */
export function withMethod(r: SequenceRecord): OutputRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    out[k] = v;
    if (k === 'meta_doc_id') out.method = 'nextlong';
  }
  return out as unknown as OutputRecord;
}
