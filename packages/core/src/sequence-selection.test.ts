import { roundScore, type Segment } from './assemble.js';
import { groupSegments } from './chunker.js';
import { ConfigError } from './errors.js';
import { parseRunConfig } from './config.js';
import { parseBand, TOPK, type SelectionOptions } from './select.js';
import { textHash } from './text.js';
import {
  build,
  checkRecord,
  cosine,
  embedText,
  exactGroup,
  fullPool,
  paperGroup,
  paperK,
  params,
  small,
  written,
  type Doc,
} from './sequence-harness.js';

/** `--selection` (DESIGN §5; the paper's Table 5 ablation) on real text, with the brute-force searcher. */

const sel = (over: Partial<SelectionOptions>): SelectionOptions => ({ ...TOPK, ...over });
const negatives = (segs: Segment[]) => segs.filter((s) => s.type === 'negative');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Scores of meta-chunk i's ranked list: every pool chunk but the meta-document's and its duplicates. */
function rankedScores(doc: Doc, i: number): number[] {
  const metas = groupSegments(doc.text);
  const hashes = new Set(metas.map(textHash));
  const q = embedText(metas[i]!);
  return fullPool
    .filter((c) => c.docId !== doc.id && !hashes.has(c.hash))
    .map((c) => roundScore(cosine(q, c.vector)))
    .sort((a, b) => b - a);
}

describe('band: a rank band of the candidates', () => {
  test('every negative scores within its meta-chunk band (ranks shift at most by the chunks used before)', async () => {
    for (const doc of small) {
      const p = params({ selection: sel({ selection: 'band', candidates: 64, band: [17, 48] }) });
      const o = written(await build(doc, p));
      const k = paperK(doc, p);
      expect(o.stats.shortfall).toBe(0);
      checkRecord(o, doc, p, paperGroup(k));
      const segs = o.record.segments;
      let usedBefore = 0;
      for (let g = 0; g * (k + 1) < segs.length; g++) {
        const group = negatives(segs.slice(g * (k + 1), (g + 1) * (k + 1)));
        const ranked = rankedScores(doc, g);
        for (const n of group) {
          expect(n.score!).toBeLessThanOrEqual(ranked[17 - 1]!);
          expect(n.score!).toBeGreaterThanOrEqual(ranked[48 - 1 + usedBefore]!);
        }
        // still laid out in descending similarity
        expect(group.map((n) => n.score)).toEqual(group.map((n) => n.score).sort((a, b) => b! - a!));
        usedBefore += group.length;
      }
    }
  });

  test('a band is parsed and checked against the candidates', () => {
    expect(parseBand('256-512', 512)).toEqual([256, 512]);
    expect(() => parseBand('0-10', 512)).toThrow(/1 ≤ FIRST ≤ LAST ≤ candidates/);
    expect(() => parseBand('300-600', 512)).toThrow(/candidates \(512\)/);
    expect(() => parseBand('20-10', 512)).toThrow(/"20-10"/);
    expect(() => parseRunConfig({ input: ['a'], out: 'o', selection: 'band', band: '10-700' })).toThrow(ConfigError);
    expect(() => parseRunConfig({ input: ['a'], out: 'o', band: 'x' })).toThrow(/band: expected ranks FIRST-LAST/);
    expect(parseRunConfig({ input: ['a'], out: 'o' })).toMatchObject({ selection: 'topk', candidates: 512, band: '256-512', retriever: 'dense' });
  });
});

describe.each(['random-candidates', 'random-pool'] as const)('%s', (selection) => {
  const p = (seed: number) => params({ seed, selection: sel({ selection, candidates: 48 }) });

  test('seeded: the same seed gives the same record, another seed other negatives', async () => {
    const doc = small[1]!;
    const a = written(await build(doc, p(3)));
    const b = written(await build(doc, p(3)));
    const c = written(await build(doc, p(4)));
    expect(a.record).toEqual(b.record);
    const keys = (o: typeof a) => negatives(o.record.segments).map((s) => `${s.doc_id}#${s.chunk}`);
    expect(keys(c)).not.toEqual(keys(a));
  });

  test('exactly T tokens, provenance and every selection rule hold; scores are the similarity to their meta-chunk', async () => {
    for (const doc of small) {
      const q = p(0);
      const o = written(await build(doc, q));
      expect(o.stats.shortfall).toBe(0);
      checkRecord(o, doc, q, paperGroup(paperK(doc, q)));
      if (selection === 'random-candidates') {
        // drawn from the first `candidates` eligible ones: never below rank 48 + the chunks used before
        const k = paperK(doc, q);
        const segs = o.record.segments;
        for (let g = 0, used = 0; g * (k + 1) < segs.length; g++) {
          const group = negatives(segs.slice(g * (k + 1), (g + 1) * (k + 1)));
          for (const n of group) expect(n.score!).toBeGreaterThanOrEqual(rankedScores(doc, g)[48 - 1 + used]!);
          used += group.length;
        }
      }
    }
  });
});

test('hardness: top-k > band > random-candidates > random-pool (mean negative score)', async () => {
  const means: Record<string, number> = {};
  for (const s of ['topk', 'band', 'random-candidates', 'random-pool'] as const) {
    const scores: number[] = [];
    for (const doc of small) {
      const o = written(await build(doc, params({ selection: sel({ selection: s, candidates: 128, band: [64, 128] }) })));
      scores.push(...o.stats.scores);
    }
    means[s] = mean(scores);
  }
  expect(means.topk).toBeGreaterThan(means['random-candidates']!);
  expect(means['random-candidates']).toBeGreaterThan(means.band!);
  expect(means.band).toBeGreaterThan(means['random-pool']!);
});

test('topk given explicitly is byte-for-byte the default (no selection option)', async () => {
  for (const doc of small.slice(0, 3)) {
    for (const budget of ['paper', 'exact'] as const) {
      const a = written(await build(doc, params({ budget })));
      const b = written(await build(doc, params({ budget, selection: TOPK })));
      expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
      expect(b.stats).toEqual(a.stats);
    }
  }
});

describe.each(['band', 'random-candidates', 'random-pool'] as const)('exact budget, %s', (selection) => {
  test.each(['head', 'tail'] as const)('%s: exactly T with every meta-chunk inside, negatives in descending similarity', async (placement) => {
    for (const doc of small.slice(0, 3)) {
      const p = params({ budget: 'exact', placement, targetTokens: 8192, selection: sel({ selection, candidates: 96, band: [8, 96] }) });
      const o = written(await build(doc, p));
      checkRecord(o, doc, p, exactGroup(placement));
      const metas = o.record.segments.filter((s) => s.type === 'meta');
      expect(metas).toHaveLength(groupSegments(doc.text).length);
      expect(metas.at(-1)!.end).toBeLessThanOrEqual(o.record.segments.at(-1)!.end);
      // head: each meta-chunk's negatives follow it, by descending score
      if (placement === 'head')
        for (const [m, meta] of metas.entries()) {
          const from = o.record.segments.indexOf(meta);
          const to = m + 1 < metas.length ? o.record.segments.indexOf(metas[m + 1]!) : undefined;
          const scores = negatives(o.record.segments.slice(from, to)).map((n) => n.score!);
          expect(scores).toEqual([...scores].sort((x, y) => y - x));
        }
    }
  });
});
