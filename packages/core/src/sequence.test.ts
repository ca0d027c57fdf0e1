import { roundScore } from './assemble.js';
import { groupSegments } from './chunker.js';
import { compareHits } from './select.js';
import { codePointLength, textHash } from './text.js';
import {
  BruteForceSearcher,
  build,
  buildChecked,
  checkRecord,
  cosine,
  type Doc,
  docs,
  E,
  embedText,
  fullPool,
  large,
  paperK,
  params,
  poolOf,
  small,
  written,
} from './sequence-harness.js';

test('fixture sanity: candidates for meta-documents exist', () => {
  expect(small.length).toBe(5);
  expect(large.length).toBeGreaterThan(0);
  expect(E).toBeGreaterThan(3);
  expect(E).toBeLessThan(6);
  expect(fullPool.length).toBeGreaterThan(400);
});

describe.each([4096, 16384])('paper budget, T = %i', (T) => {
  const metas = T === 4096 ? small : [...small.slice(0, 2), ...large];

  test.each(['head', 'tail', 'random'] as const)('%s: invariants on real text', async (placement) => {
    for (const doc of metas) {
      const p = params({ targetTokens: T, placement });
      const o = await buildChecked(doc, p);
      const k = paperK(doc, p);
      expect(k).toBeGreaterThan(0);
      expect(o.stats.shortfall).toBe(0);
      // the layout: group i occupies indices [i(k+1), (i+1)(k+1)) (the tail may be cut)
      const segs = o.record.segments;
      segs.forEach((s, idx) => {
        if (s.type !== 'meta') return;
        const lo = s.chunk * (k + 1);
        if (placement === 'head') expect(idx).toBe(lo);
        else if (placement === 'tail') expect(idx).toBe(lo + k);
        else {
          expect(idx).toBeGreaterThanOrEqual(lo);
          expect(idx).toBeLessThanOrEqual(lo + k);
        }
      });
      // negatives of a group in descending similarity
      for (let g = 0; g * (k + 1) < segs.length; g++) {
        const scores = segs
          .slice(g * (k + 1), (g + 1) * (k + 1))
          .filter((s) => s.type === 'negative')
          .map((s) => s.score!);
        for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeLessThanOrEqual(scores[i - 1]!);
      }
    }
  });
});

describe('determinism', () => {
  test('same seed → identical record, from fresh ports', async () => {
    const [poolA, poolB] = [poolOf(docs), poolOf(docs)];
    for (const placement of ['head', 'random'] as const) {
      const p = params({ placement, targetTokens: 4096 });
      const a = written(await build(small[1]!, p, new BruteForceSearcher(poolA)));
      const b = written(await build(small[1]!, p, new BruteForceSearcher(poolB)));
      expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
      expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
      expect(b.stats).toEqual(a.stats);
    }
  });

  test('random placement varies with the seed, deterministically', async () => {
    const doc = small[0]!;
    const layouts = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const p = params({ placement: 'random', seed });
      const a = await buildChecked(doc, p);
      const b = written(await build(doc, p));
      expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
      layouts.add(a.record.segments.map((s) => s.type[0]).join(''));
    }
    expect(layouts.size).toBeGreaterThan(1);
  });

  test('head and tail do not depend on the seed', async () => {
    for (const placement of ['head', 'tail'] as const) {
      const a = written(await build(small[2]!, params({ placement, seed: 1 })));
      const b = written(await build(small[2]!, params({ placement, seed: 2 })));
      expect(b.record).toEqual(a.record);
    }
  });
});

describe('selection rules inside a sequence', () => {
  test('no negative from the meta-document even when the index leaks it', async () => {
    const doc = small[0]!;
    const leaky = new BruteForceSearcher(fullPool, true);
    const o = await buildChecked(doc, params(), leaky);
    expect(o.stats.skips.self).toBeGreaterThan(0);
  });

  test('reuse across meta-chunks is skipped and counted', async () => {
    const doc = large[0]!;
    const o = await buildChecked(doc, params({ targetTokens: 16384 }));
    expect(o.stats.skips.reused).toBeGreaterThan(0);
  });

  test('text duplicates of meta-chunks (after normalization) are skipped', async () => {
    const doc = small[0]!;
    // a copy of the meta-document under another id, re-cased and re-spaced: same normalized chunks
    // (same code point lengths, so the copy chunks exactly like the original)
    const copy: Doc = { id: 'copy-of-meta', text: doc.text.toUpperCase().replace(/ /g, '\t') };
    expect(codePointLength(copy.text)).toBe(codePointLength(doc.text));
    const chunks = [...poolOf([copy]), ...fullPool];
    const pool = new Map(chunks.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));
    const p = params();
    const o = written(await build(doc, p, new BruteForceSearcher(chunks)));
    checkRecord(o, doc, p, undefined, pool);
    expect(o.stats.skips.duplicate).toBeGreaterThan(0);
    expect(o.record.segments.some((s) => s.doc_id === 'copy-of-meta')).toBe(false);
  });

  test('a similarity ceiling skips near-duplicates and still fills every group (over-fetch)', async () => {
    const doc = small[3]!;
    const free = written(await build(doc, params()));
    const top = Math.max(...free.record.segments.filter((s) => s.type === 'negative').map((s) => s.score!));
    const ceiling = roundScore(top - 0.05);
    const searcher = new BruteForceSearcher(fullPool);
    const p = params({ similarityCeiling: ceiling, overfetch: 0 });
    const o = await buildChecked(doc, p, searcher);
    expect(o.stats.skips.ceiling).toBeGreaterThan(0);
    expect(o.stats.shortfall).toBe(0);
    for (const s of o.stats.scores) expect(s).toBeLessThanOrEqual(ceiling);
  });

  test.each([0.5, 0.7, 0.25])(
    'over-fetch with ceiling %f: lists emptied by exclusions are fetched again; selection equals a brute-force reference',
    async (quantile) => {
      const doc = small[4]!;
      const metaChunks = groupSegments(doc.text);
      const metaVecs = metaChunks.map(embedText);
      // a ceiling at a quantile of the first meta-chunk's scores: many top candidates are skipped
      const scores0 = fullPool
        .filter((c) => c.docId !== doc.id)
        .map((c) => cosine(metaVecs[0]!, c.vector))
        .sort((x, y) => x - y);
      const ceiling = scores0[Math.floor(quantile * (scores0.length - 1))]!;
      const p = params({ similarityCeiling: ceiling, overfetch: 0 });
      const k = paperK(doc, p);
      // reference: for each meta-chunk in order, the top k eligible of the whole pool
      const metaHashes = new Set(metaChunks.map(textHash));
      const used = new Set<number>();
      const expected: number[][] = [];
      let shortfall = 0;
      metaVecs.forEach((v) => {
        const ranked = fullPool
          .map((c, key) => ({ key, docId: c.docId, chunk: c.chunk, hash: c.hash, score: cosine(v, c.vector) }))
          .filter((h) => h.docId !== doc.id && !used.has(h.key) && !metaHashes.has(h.hash) && h.score <= ceiling)
          .sort(compareHits)
          .slice(0, k);
        for (const h of ranked) used.add(h.key);
        expected.push(ranked.map((h) => h.key));
        shortfall += k - ranked.length;
      });
      const searcher = new BruteForceSearcher(fullPool);
      const o = await build(doc, p, searcher);
      expect(o.stats.shortfall).toBe(shortfall);
      expect(searcher.searches.some((x) => x.queries === 1)).toBe(true); // a longer list was fetched
      // the placed negatives are the reference's, in order (the record may be cut before the end)
      const keyOf = new Map(fullPool.map((c, key) => [`${c.docId}\u0000${c.chunk}`, key]));
      const placed = written(o)
        .record.segments.filter((x) => x.type === 'negative')
        .map((x) => keyOf.get(`${x.doc_id}\u0000${x.chunk}`));
      expect(placed).toEqual(expected.flat().slice(0, placed.length));
      expect(placed.length).toBeGreaterThan(0);
    },
  );
});
