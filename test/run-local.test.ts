import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { codePointLength, parseRunConfig, sliceCodePoints, type RunConfig } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, readMdsInputIds, readPartBytes, readSequences, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';

const T = 8192;

function config(out: string, extra: Partial<RunConfig> = {}): RunConfig {
  return parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: T,
    shardDocs: 30,
    concurrency: 1,
    ...extra,
  });
}

describe('nextlong run on one machine (local executor, real model, index and tokenizer)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manifest: Manifest;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    manifest = await runLocal(config(path.join(dir, 'a')), { quiet: true });
  });
  afterAll(() => cleanup());

  test('every sequence is exactly T tokens and its segments slice the text back into pieces', async () => {
    const tok = loadTokenizer('llama3');
    const recs = await readSequences(path.join(dir, 'a'));
    expect(recs.length).toBeGreaterThan(50);
    const docs = new Map(
      (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; text: string })
        .map((d) => [d.id, d.text]),
    );
    for (const r of recs) {
      expect(r.num_tokens).toBe(T);
      expect(tok.encode(r.text).length).toBe(T);
      expect(r.meta_doc_id).toBe(r.id);
      const metas = r.segments.filter((s) => s.type === 'meta');
      expect(metas.map((s) => s.chunk)).toEqual(metas.map((_, i) => i)); // in order
      const negs = r.segments.filter((s) => s.type === 'negative');
      expect(negs.every((s) => s.doc_id !== r.meta_doc_id)).toBe(true);
      expect(new Set(negs.map((s) => `${s.doc_id}#${s.chunk}`)).size).toBe(negs.length);
      // the meta piece is the start of the document's own text at its chunk
      const first = sliceCodePoints(r.text, metas[0]!.start, metas[0]!.end);
      expect(docs.get(r.id)!.startsWith(first)).toBe(true);
      r.segments.forEach((s, i) => {
        expect(s.end).toBeGreaterThanOrEqual(s.start);
        const next = r.segments[i + 1];
        if (next) expect(sliceCodePoints(r.text, s.end, next.start)).toBe('\n\n');
        else expect(s.end).toBeLessThanOrEqual(codePointLength(r.text));
      });
    }
  });

  test('the manifest balances and hard negatives beat random pool chunks', () => {
    const c = manifest.counts;
    const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
    expect(c.documents_read).toBe(80);
    expect(c.documents_read).toBe(c.sequences_written + discarded + c.documents_rejected + c.documents_unsampled);
    expect(c.output_tokens).toBe(c.sequences_written * T);
    expect(c.chunks_indexed).toBeGreaterThan(400);
    expect(manifest.negative_score.mean!).toBeGreaterThan(manifest.random_score.mean! + 0.1);
  });

  test('the same command with the same seed gives byte-identical output', async () => {
    await runLocal(config(path.join(dir, 'b')), { quiet: true });
    expect(await readPartBytes(path.join(dir, 'b'))).toEqual(await readPartBytes(path.join(dir, 'a')));
  });

  test('re-running after a crash mid-synth resumes and ends with the same output', async () => {
    const out = path.join(dir, 'c');
    await runLocal(config(out), { quiet: true });
    // simulate a crash: the last synth shard and the manifest never happened
    const done = (await readdir(path.join(out, 'done', 'synth'))).sort();
    const lost = done[done.length - 1]!;
    await rm(path.join(out, 'done', 'synth', lost));
    await rm(path.join(out, 'sequences', `part-${lost}.jsonl.zst`));
    await rm(path.join(out, 'manifest.json'));
    const m = await runLocal(config(out), { quiet: true });
    expect(m.counts).toEqual(manifest.counts);
    expect(await readPartBytes(out)).toEqual(await readPartBytes(path.join(dir, 'a')));
  });

  test('a folder holding another run is refused before any work', async () => {
    await expect(runLocal(config(path.join(dir, 'a'), { seed: 5 }), { quiet: true })).rejects.toThrow(/holds another run/);
  });

  test('--sequences samples N meta-documents and the counts still balance', async () => {
    const m = await runLocal(config(path.join(dir, 'd'), { sequences: 10, budget: 'exact', placement: 'tail' }), { quiet: true });
    expect(m.counts.documents_unsampled).toBe(70);
    expect(m.counts.sequences_written + (m.counts.sequences_discarded.too_short ?? 0)).toBe(10);
    const recs = await readSequences(path.join(dir, 'd'));
    for (const r of recs) {
      const metas = r.segments.filter((s) => s.type === 'meta');
      const last = metas[metas.length - 1]!;
      // exact budget: unless the document alone exceeds T (then it has no negatives and is
      // cut), the last meta-chunk is whole and lies inside the T tokens
      if (metas.length < r.segments.length) expect(r.segments.indexOf(last)).toBeLessThan(r.segments.length - 1);
    }
  });

  test('--pool: negatives come only from the pool corpus', async () => {
    const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
    const input = path.join(dir, 'meta.jsonl');
    const pool = path.join(dir, 'pool.jsonl');
    await writeFile(input, lines.slice(0, 10).join('\n') + '\n');
    await writeFile(pool, lines.slice(10).join('\n') + '\n');
    const m = await runLocal(config(path.join(dir, 'e'), { input: [input], pool: [pool] }), { quiet: true });
    expect(m.counts.documents_read).toBe(10);
    expect(m.counts.pool_documents_read).toBe(70);
    const poolIds = new Set(lines.slice(10).map((l) => (JSON.parse(l) as { id: string }).id));
    for (const r of await readSequences(path.join(dir, 'e'))) {
      for (const s of r.segments) expect(s.type === 'meta' ? s.doc_id === r.id : poolIds.has(s.doc_id)).toBe(true);
    }
  });

  test('--format both: MDS samples hold exactly the tokens of each sequence text', async () => {
    const out = path.join(dir, 'f');
    const m = await runLocal(config(out, { format: 'both', sequences: 12 }), { quiet: true });
    expect(m.mds?.samples).toBe(m.counts.sequences_written);
    const tok = loadTokenizer('llama3');
    const recs = await readSequences(out);
    const samples = await readMdsInputIds(path.join(out, 'mds'));
    expect(samples).toHaveLength(recs.length);
    recs.forEach((r, i) => {
      expect(samples[i]!.length).toBe(T);
      expect(Array.from(samples[i]!)).toEqual(Array.from(tok.encode(r.text)));
    });
  });
});
