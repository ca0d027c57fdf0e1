import { groupSegments } from './chunker.js';
import { codePointLength } from './text.js';
import {
  BruteForceSearcher,
  build,
  checkRecord,
  type Doc,
  docs,
  exactGroup,
  large,
  paperK,
  params,
  poolOf,
  small,
  written,
} from './sequence-harness.js';

describe('exact budget', () => {
  test.each([
    [4096, 'head'],
    [4096, 'tail'],
    [4096, 'random'],
    [16384, 'head'],
    [16384, 'tail'],
    [16384, 'random'],
  ] as const)('T = %i, %s: every meta-chunk lies fully inside the text', async (T, placement) => {
    const metas = T === 4096 ? small : large;
    for (const doc of metas) {
      const p = params({ targetTokens: T, placement, budget: 'exact' });
      const o = written(await build(doc, p));
      checkRecord(o, doc, p, exactGroup(placement));
      const metaChunks = groupSegments(doc.text);
      const metaSegs = o.record.segments.filter((s) => s.type === 'meta');
      expect(metaSegs.map((s) => s.chunk)).toEqual(metaChunks.map((_, i) => i));
      for (const s of metaSegs) expect(s.end - s.start).toBe(codePointLength(metaChunks[s.chunk]!));
      // the last segment (the one cut) is a negative
      expect(o.record.segments.at(-1)!.type).toBe('negative');
      expect(o.stats.shortfall).toBe(0);
    }
  });

  test('exact budget is deterministic', async () => {
    const p = params({ targetTokens: 4096, placement: 'random', budget: 'exact', seed: 3 });
    const a = written(await build(small[0]!, p));
    const b = written(await build(small[0]!, p));
    expect(JSON.stringify(b.record)).toBe(JSON.stringify(a.record));
  });
});

describe('a pool that runs out', () => {
  const doc = small[0]!;
  const tiny = poolOf(docs.filter((d) => d.id !== doc.id).slice(0, 2));

  test.each(['paper', 'exact'] as const)('%s: too_short discard and a recorded shortfall', async (budget) => {
    const searcher = new BruteForceSearcher(tiny);
    const o = await build(doc, params({ targetTokens: 16384, budget }), searcher);
    expect(o.kind).toBe('discarded');
    if (o.kind !== 'discarded') return;
    expect(o.reason).toBe('too_short');
    expect(o.stats.shortfall).toBeGreaterThan(0);
  });

  test('paper: the shortfall is k·p minus what the pool had', async () => {
    const searcher = new BruteForceSearcher(tiny);
    const p = params({ targetTokens: 16384 });
    const o = await build(doc, p, searcher);
    const k = paperK(doc, p);
    const p0 = groupSegments(doc.text).length;
    // every pool chunk is used once (no reuse), the rest is missing
    expect(o.stats.shortfall).toBe(k * p0 - tiny.length);
  });

  test('paper: a pool just big enough still reaches T (shortfall recorded, sequence kept)', async () => {
    const mid = poolOf(docs.filter((d) => d.id !== doc.id).slice(0, 12));
    const p = params({ targetTokens: 4096 });
    const k = paperK(doc, p);
    const o = await build(doc, p, new BruteForceSearcher(mid));
    if (mid.length < k * groupSegments(doc.text).length) expect(o.stats.shortfall).toBeGreaterThan(0);
    expect(o.kind).toBe('written');
  });

  test('an empty pool', async () => {
    const o = await build(doc, params(), new BruteForceSearcher([]));
    expect(o.kind).toBe('discarded');
    expect(o.stats.randomScores).toEqual([]);
  });
});

describe('a pool of short documents (many small chunks)', () => {
  // every non-empty line of the fixture becomes a pool document of its own (~90 characters)
  const lineDocs: Doc[] = docs.flatMap((d) =>
    d.text
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((text, i) => ({ id: `${d.id}#${i}`, text })),
  );
  const shortPool = poolOf(lineDocs);
  const pool = new Map(shortPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));

  test.each(['head', 'tail', 'random'] as const)('exact, %s: reaches T when the pool holds far more than T tokens', async (placement) => {
    const doc = small[1]!;
    const p = params({ targetTokens: 16384, budget: 'exact', placement });
    const searcher = new BruteForceSearcher(shortPool);
    const o = await build(doc, p, searcher);
    expect(o.stats.shortfall).toBe(0);
    checkRecord(written(o), doc, p, exactGroup(placement), pool);
  });

  test.each(['head', 'tail', 'random'] as const)(
    'exact, %s: tiny documents (a few words each) need longer lists, fetched again',
    async (placement) => {
      // ~6 words per document: the first list of candidates cannot hold T tokens
      const words = docs.slice(0, 30).flatMap((d) => d.text.split(/\s+/u).filter(Boolean));
      const tinyDocs: Doc[] = [];
      for (let i = 0; i + 6 <= words.length; i += 6) tinyDocs.push({ id: `w${i}`, text: words.slice(i, i + 6).join(' ') });
      const tinyPool = poolOf(tinyDocs);
      const tinyMap = new Map(tinyPool.map((c) => [`${c.docId}\u0000${c.chunk}`, c]));
      const doc = small[1]!;
      const p = params({ targetTokens: 16384, budget: 'exact', placement });
      const searcher = new BruteForceSearcher(tinyPool);
      const o = await build(doc, p, searcher);
      expect(o.stats.shortfall).toBe(0);
      checkRecord(written(o), doc, p, exactGroup(placement), tinyMap);
      expect(searcher.searches.some((s) => s.queries === 1)).toBe(true); // fetched a longer list
    },
  );

  test('paper: k assumes negatives of s characters, so short negatives fall short of T (faithful)', async () => {
    const doc = small[1]!;
    const p = params({ targetTokens: 16384 });
    const o = await build(doc, p, new BruteForceSearcher(shortPool));
    expect(o.stats.shortfall).toBe(0);
    expect(o.kind).toBe('discarded');
    if (o.kind === 'discarded') expect(o.reason).toBe('too_short');
  });
});

describe('random-negative baseline', () => {
  test('scores of the first meta-chunk against seeded random pool chunks', async () => {
    const doc = small[0]!;
    const a = written(await build(doc, params()));
    const b = written(await build(doc, params()));
    expect(a.stats.randomScores).toHaveLength(8);
    expect(b.stats.randomScores).toEqual(a.stats.randomScores);
    for (const s of a.stats.randomScores) {
      expect(s).toBeGreaterThanOrEqual(-1);
      expect(s).toBeLessThanOrEqual(1.000001);
    }
  });
});
