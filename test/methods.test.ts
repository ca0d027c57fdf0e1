import path from 'node:path';
import {
  groupSegments,
  parseRunConfig,
  rakeWords,
  sliceCodePoints,
  type DocSegment,
  type MethodRecord,
  type RunConfig,
} from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, fixtureTexts, readPartBytes, readSequences, tempDir } from '@nextlong/testing';
import { get_encoding } from 'tiktoken';

/**
 * --method standard|knn|iclm|quest on real text (docs-a fixture), real model, index and tokenizer;
 * token counts checked by tiktoken (an independent implementation of cl100k).
 */
const T = 2048;
const CHUNK = 2048;

const docs = await fixtureTexts('docs-a.slice.jsonl');
const chunksOf = (id: string) => groupSegments(docs.get(id)!, CHUNK);

function config(out: string, extra: Partial<RunConfig>): RunConfig {
  return parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: T,
    tokenizer: 'cl100k',
    shardDocs: 30,
    concurrency: 1,
    ...extra,
  });
}

/** The documents of a record in order, each with its segments. */
function documentsOf(r: MethodRecord): { id: string; segs: DocSegment[] }[] {
  const out: { id: string; segs: DocSegment[] }[] = [];
  for (const s of r.segments) {
    if (out.length && out[out.length - 1]!.id === s.doc_id) out[out.length - 1]!.segs.push(s);
    else out.push({ id: s.doc_id, segs: [s] });
  }
  return out;
}

describe('comparison methods (--method)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const runs: Record<string, { m: Manifest; recs: MethodRecord[] }> = {};
  const enc = get_encoding('cl100k_base');

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    for (const [name, extra] of Object.entries({
      standard: { method: 'standard', seed: 0 },
      standard1: { method: 'standard', seed: 1 },
      knn: { method: 'knn' },
      iclm: { method: 'iclm', iclmNeighbors: 5 },
      quest: { method: 'quest' },
    } as Record<string, Partial<RunConfig>>)) {
      const m = await runLocal(config(path.join(dir, name), extra), { quiet: true });
      runs[name] = { m, recs: (await readSequences(path.join(dir, name))) as unknown as MethodRecord[] };
    }
  }, 600_000);
  afterAll(async () => {
    enc.free();
    await cleanup();
  });

  test.each(['standard', 'knn', 'iclm', 'quest'])(
    '%s: exactly T tokens by tiktoken, provenance slices the text exactly, counts balance',
    (name) => {
      const { m, recs } = runs[name]!;
      expect(m.method).toBe(name);
      expect(recs.length).toBeGreaterThan(name === 'iclm' ? 20 : 50);
      for (const r of recs) {
        expect(r.method).toBe(name);
        expect(r.num_tokens).toBe(T);
        expect(enc.encode_ordinary(r.text).length).toBe(T);
        expect(r.segments[0]!).toMatchObject({ type: 'meta', doc_id: r.meta_doc_id, start: 0 });
        r.segments.forEach((s, i) => {
          const chunk = chunksOf(s.doc_id)[s.chunk]!;
          const slice = sliceCodePoints(r.text, s.start, s.end);
          if (i === r.segments.length - 1)
            expect(chunk.startsWith(slice)).toBe(true); // the cut
          else expect(slice).toBe(chunk);
          const next = r.segments[i + 1];
          if (next) expect(sliceCodePoints(r.text, s.end, next.start)).toBe(next.doc_id === s.doc_id ? '\n' : '\n\n');
          expect(s.type).toBe(s.doc_id === r.meta_doc_id ? 'meta' : 'document');
        });
        const ids = documentsOf(r).map((d) => d.id);
        expect(new Set(ids).size).toBe(ids.length); // no document twice in a sequence
      }
      const c = m.counts;
      const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
      expect(c.documents_read).toBe(80);
      expect(c.documents_read).toBe(c.sequences_written + discarded + c.documents_rejected + c.documents_unsampled + c.documents_merged!);
      expect(c.output_tokens).toBe(c.sequences_written * T);
    },
  );

  test('standard, knn and quest need the segments backend: a configuration error before any work', () => {
    for (const method of ['standard', 'knn', 'quest'] as const) {
      expect(() => config(path.join(dir, 'q'), { method, vectors: 'qdrant' })).toThrow(/method: .* needs vectors: segments/);
    }
    expect(config(path.join(dir, 'q'), { method: 'iclm', vectors: 'qdrant' }).method).toBe('iclm');
    expect(() => config(path.join(dir, 'q'), { method: 'random' as never })).toThrow(/method/);
  });

  test('standard: seeded (same seed, same bytes; another seed, other documents) and covering the pool', async () => {
    const again = path.join(dir, 'standard-again');
    await runLocal(config(again, { method: 'standard', seed: 0 }), { quiet: true });
    expect(await readPartBytes(again)).toEqual(await readPartBytes(path.join(dir, 'standard')));
    const second = (name: string) => runs[name]!.recs.map((r) => documentsOf(r)[1]?.id);
    const s0 = second('standard');
    const s1 = second('standard1');
    // a document longer than T is a sequence alone: compare where both seeds drew a second document
    const both = s0.map((id, i) => [id, s1[i]] as const).filter(([a, b]) => a !== undefined && b !== undefined);
    expect(both.length).toBeGreaterThan(20);
    expect(both.filter(([a, b]) => a === b).length).toBeLessThan(both.length / 4);
    // uniform draws of n of the 79 others cover about 79(1 - (78/79)^n) distinct ones (n = 40: 31);
    // a draw that favours a few documents covers far fewer
    const drawn = s0.filter((id) => id !== undefined);
    expect(new Set(drawn).size).toBeGreaterThan(0.6 * drawn.length);
  });

  test('knn: each document followed by its nearest documents, in descending similarity, self excluded', () => {
    const { recs, m } = runs.knn!;
    for (const r of recs) {
      const scores = documentsOf(r)
        .slice(1)
        .map((d) => d.segs[0]!.score!);
      for (let i = 1; i < scores.length; i++) expect(scores[i - 1]!).toBeGreaterThanOrEqual(scores[i]!);
    }
    // nearest documents are more similar than random ones
    expect(m.negative_score.mean!).toBeGreaterThan(m.random_score.mean! + 0.05);
    expect(m.negative_score.mean!).toBeGreaterThan(runs.standard!.m.negative_score.mean! + 0.05);
  });

  test('iclm: no document is used twice in the whole run', () => {
    const { recs, m } = runs.iclm!;
    const all = recs.flatMap((r) => documentsOf(r).map((d) => d.id));
    expect(new Set(all).size).toBe(all.length);
    expect(m.counts.documents_merged!).toBeGreaterThan(0);
    // every document ends up in a written sequence, or in the discarded tail of its shard
    expect(all.length + m.counts.sequences_discarded.too_short!).toBeLessThanOrEqual(80);
  });

  test('quest: every document of a sequence shares the keyword of its group with the anchor', () => {
    const kw = (id: string) =>
      rakeWords(
        chunksOf(id)
          .filter((t) => t.trim() !== '')
          .join('\n'),
        { max: 5 },
      ).map((k) => k.phrase);
    const { recs } = runs.quest!;
    for (const r of recs) {
      const anchor = kw(r.meta_doc_id);
      for (const d of documentsOf(r).slice(1)) {
        const k = d.segs[0]!.keyword!;
        expect(anchor).toContain(k);
        expect(kw(d.id)).toContain(k);
        expect(d.segs.every((s) => s.keyword === k)).toBe(true);
      }
    }
  });
});
