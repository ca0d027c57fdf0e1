/**
 * The synth stage's output tokens/s: buildSequence (embed the meta-chunks, search the real
 * segments index, fetch texts, lay out, join, tokenize, cut to T) over a seeded sample of demo
 * meta-documents, against raw tiktoken encoding the same output texts. Goal: ratio ≥ 2.
 *
 * The index: `runLocal` on demo/corpus (--sequences 1, concurrency 1) into a temp folder, once.
 * Cases (same meta-documents, same params as the synth step):
 *   - baseline: the raw tokenizer's encode_ordinary of the texts the synth cases wrote;
 *   - synth, warm: the tokenizer as loadTokenizer gives it, its caches filled by earlier runs
 *     (a synth shard process places every pool chunk many times);
 *   - synth, cold: a fresh pre-token cache each run (the first sequences of a process);
 *   - synth, raw tokenizer: every join tokenized whole by tiktoken (before the cache).
 * The note says whether the cached and raw runs wrote byte-identical records and ids.
 *
 *   BENCH_SYNTH_SEQUENCES=8    meta-documents per run
 *   BENCH_SYNTH_TARGET=131072  T
 *   BENCH_SYNTH_TOKENIZER=llama3 | cl100k | o200k
 *   BENCH_SYNTH_BUDGET=paper | exact
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildSequence, parseRunConfig, sampleIndices, sequenceParams } from '@nextlong/core';
import { readPlan, RunContext, runLocal } from '@nextlong/pipeline';
import { openObjectStore, readShard } from '@nextlong/storage';
import { CachedTokenizer, LLAMA3_PATTERN, OPENAI_PATTERNS, rawTokenizer } from '@nextlong/tokenizers';
import { env } from './lib/env.js';

const SEQUENCES = Number(env('BENCH_SYNTH_SEQUENCES', 8));
const TARGET = Number(env('BENCH_SYNTH_TARGET', 131072));
const TOKENIZER = env('BENCH_SYNTH_TOKENIZER', 'llama3');
const BUDGET = env('BENCH_SYNTH_BUDGET', 'paper');
const PATTERNS = { llama3: LLAMA3_PATTERN, ...OPENAI_PATTERNS };

export default async function synthBench() {
  const out = await mkdtemp(path.join(os.tmpdir(), 'nextlong-bench-synth-'));
  const t0 = performance.now();
  const base = { input: [path.resolve('demo/corpus')], out, concurrency: 1, targetTokens: TARGET, tokenizer: TOKENIZER, budget: BUDGET };
  await runLocal(parseRunConfig({ ...base, sequences: 1 }), { quiet: true });
  const indexSeconds = (performance.now() - t0) / 1000;
  const store = openObjectStore(out);
  const plan = await readPlan(store);
  const ctx = new RunContext(plan, store);
  const c = plan.config;
  const [searcher, embedder] = [await ctx.getSearcher(), await ctx.getEmbedder()];
  const cached = ctx.tokenizer;
  const raw = rawTokenizer(cached);
  const docs = [];
  for (const shard of plan.inputShards) for await (const item of readShard(shard, c)) if ('doc' in item) docs.push(item.doc);
  const metas = sampleIndices(docs.length, Math.min(SEQUENCES, docs.length), 'synth-bench').map((i) => docs[i]);
  const params = sequenceParams(c, plan.charsPerToken);
  const synth = async (tokenizer) => {
    const written = [];
    for (const doc of metas) {
      const r = await buildSequence(doc, { searcher, embedder, tokenizer }, params);
      if (r.kind === 'written') written.push(r);
    }
    return written;
  };
  const tokens = (written) => written.reduce((a, r) => a + r.record.num_tokens, 0);
  const key = (written) => JSON.stringify(written.map((r) => [r.record, Array.from(r.ids)]));
  const viaRaw = await synth(raw);
  const identical = key(await synth(cached)) === key(viaRaw);
  const texts = viaRaw.map((r) => r.record.text);
  const slowBefore = cached.slowPaths ?? 0;
  return {
    title: `synth stage: output tokens/s of buildSequence vs raw ${TOKENIZER} encoding of the same texts (T = ${TARGET}, budget ${BUDGET})`,
    note:
      `${metas.length} demo meta-documents per run, ${viaRaw.length} written, ${tokens(viaRaw)} tokens; index built in ${indexSeconds.toFixed(1)} s ` +
      `(${searcher.size} pool chunks); cached vs raw records and ids byte-identical: ${identical ? 'yes' : 'NO'}`,
    runs: 3,
    warmup: 1,
    after: async () => {
      if ((cached.slowPaths ?? 0) !== slowBefore) console.log(`note: ${cached.slowPaths - slowBefore} texts went to tiktoken whole`);
      await ctx.close();
      await rm(out, { recursive: true, force: true });
    },
    cases: [
      {
        name: `raw tiktoken encode_ordinary of the output texts`,
        unit: 'tokens',
        baseline: true,
        run: () => texts.reduce((a, t) => a + raw.encode(t).length, 0),
      },
      { name: 'synth (buildSequence), warm pre-token cache', unit: 'tokens', goal: 2, run: async () => tokens(await synth(cached)) },
      {
        name: 'synth, cold cache (fresh each run)',
        unit: 'tokens',
        run: async () => tokens(await synth(new CachedTokenizer(raw, PATTERNS[TOKENIZER]))),
      },
      { name: 'synth, raw tokenizer (no cache)', unit: 'tokens', run: async () => tokens(await synth(raw)) },
    ],
  };
}
