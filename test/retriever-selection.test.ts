import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { codePointLength, parseRunConfig, sliceCodePoints, termsOf, type RunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, fixtureTexts, readPartBytes, readSequences, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';

/** `--selection` and `--retriever bm25` through the local executor on real text (test/fixtures/docs-a.slice.jsonl). */

const T = 4096;
const docs = await fixtureTexts('docs-a.slice.jsonl');
const tok = loadTokenizer('llama3');

function config(out: string, extra: Partial<RunConfig> = {}): RunConfig {
  return parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: T,
    shardDocs: 40,
    sequences: 12,
    concurrency: 1,
    ...extra,
  });
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** Exactly T tokens by the tokenizer itself, and each negative's slice is the start of (or all of) a chunk of its document. */
function checkExact(text: string, segments: { type: string; doc_id: string; start: number; end: number }[]) {
  expect(tok.encode(text).length).toBe(T);
  for (const s of segments) expect(docs.get(s.doc_id)!.includes(sliceCodePoints(text, s.start, Math.min(s.end, s.start + 200)))).toBe(true);
  expect(segments.at(-1)!.end).toBe(codePointLength(text));
}

describe('--selection', () => {
  test('random-pool: exact T, seeded (byte-identical again), and easier than top-k in the manifest', async () => {
    const topk = await runLocal(config(path.join(dir, 'topk')), { quiet: true });
    const pool = await runLocal(config(path.join(dir, 'pool'), { selection: 'random-pool' }), { quiet: true });
    const again = await runLocal(config(path.join(dir, 'pool2'), { selection: 'random-pool', concurrency: 2 }), { quiet: true });
    expect(pool.config.selection).toBe('random-pool');
    expect(await readPartBytes(path.join(dir, 'pool2'))).toEqual(await readPartBytes(path.join(dir, 'pool')));
    expect(again.counts.sequences_written).toBeGreaterThan(5);
    for (const r of await readSequences(path.join(dir, 'pool'))) checkExact(r.text, r.segments);
    expect(pool.negative_score.mean!).toBeLessThan(topk.negative_score.mean!);
    // the random pool is the baseline itself: its negatives score like the random baseline
    expect(Math.abs(pool.negative_score.mean! - pool.random_score.mean!)).toBeLessThan(0.1);
  });

  test('band: negatives score below top-k but above random pool chunks', async () => {
    const band = await runLocal(config(path.join(dir, 'band'), { selection: 'band', candidates: 64, band: '32-64' }), { quiet: true });
    const topk = JSON.parse(await readFile(path.join(dir, 'topk', 'manifest.json'), 'utf8'));
    expect(band.negative_score.mean!).toBeLessThan(topk.negative_score.mean);
    expect(band.negative_score.mean!).toBeGreaterThan(band.random_score.mean!);
    for (const r of await readSequences(path.join(dir, 'band'))) checkExact(r.text, r.segments);
  });
});

describe('--retriever bm25 (segments: an inverted index built by the index step)', () => {
  test('the run writes BM25 negatives: exact T, provenance, terms shared with their meta-chunk; the same on another shard layout', async () => {
    const a = path.join(dir, 'bm25-a');
    const b = path.join(dir, 'bm25-b');
    const dense = path.join(dir, 'bm25-dense');
    await runLocal(config(a, { retriever: 'bm25' }), { quiet: true });
    await runLocal(config(b, { retriever: 'bm25', shardDocs: 25, concurrency: 2 }), { quiet: true });
    await runLocal(config(dense), { quiet: true });
    const written = await readSequences(a);
    expect(written.length).toBeGreaterThan(4);
    let above1 = 0;
    for (const r of written) {
      checkExact(r.text, r.segments);
      const metas = r.segments.filter((s) => s.type === 'meta');
      let group = -1;
      for (const s of r.segments) {
        if (s.type === 'meta') {
          group = s.chunk;
          continue;
        }
        const own = new Set(termsOf(sliceCodePoints(r.text, metas[group]!.start, metas[group]!.end)));
        const shared = termsOf(sliceCodePoints(r.text, s.start, s.end)).filter((t) => own.has(t));
        expect(shared.length).toBeGreaterThan(0);
        if (s.score! > 1) above1++;
      }
    }
    expect(above1).toBeGreaterThan(10); // BM25 scores, not cosines
    // the written negatives are not the dense retriever's
    expect(JSON.stringify(written.map((r) => r.segments))).not.toBe(JSON.stringify((await readSequences(dense)).map((r) => r.segments)));
    // same input, other shards and concurrency: identical sequences (deterministic build and ties)
    expect(JSON.stringify(await readSequences(b))).toBe(JSON.stringify(written));
  });
});
