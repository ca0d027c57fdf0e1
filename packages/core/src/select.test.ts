import type { Hit } from './ports.js';
import { compareHits, eligible, emptySkips, selectTopK, type SelectionContext } from './select.js';
import { normalizeForDedup, textHash } from './text.js';

let nextKey = 0;
function hit(docId: string, score: number, text = `${docId}:${score}:${nextKey}`, key = nextKey++): Hit {
  return { key, docId, chunk: key, score, hash: textHash(text) };
}

function ctx(over: Partial<SelectionContext> = {}): SelectionContext {
  return { metaDocId: 'meta', metaHashes: new Set(), used: new Set(), ...over };
}

describe('selectTopK (DESIGN §3.3)', () => {
  test('takes the top k in rank order', () => {
    const hits = [hit('a', 0.9), hit('b', 0.8), hit('c', 0.7), hit('d', 0.6)];
    const r = selectTopK(hits, 2, ctx());
    expect(r.taken.map((h) => h.docId)).toEqual(['a', 'b']);
    expect(r.skips).toEqual(emptySkips());
  });

  test('excludes chunks of the meta-document itself (its nearest neighbour is itself)', () => {
    const hits = [hit('meta', 1), hit('a', 0.9), hit('meta', 0.85), hit('b', 0.8), hit('c', 0.7)];
    const r = selectTopK(hits, 2, ctx());
    expect(r.taken.map((h) => h.docId)).toEqual(['a', 'b']);
    expect(r.skips.self).toBe(2);
  });

  test('never reuses a chunk already placed in the sequence', () => {
    const hits = [hit('a', 0.9), hit('b', 0.8), hit('c', 0.7)];
    const c = ctx({ used: new Set([hits[0]!.key]) });
    const r = selectTopK(hits, 2, c);
    expect(r.taken.map((h) => h.docId)).toEqual(['b', 'c']);
    expect(r.skips.reused).toBe(1);
    // the caller marks them used: a second meta-chunk with the same list gets none of them
    for (const h of r.taken) c.used.add(h.key);
    expect(selectTopK(hits, 2, c).taken).toEqual([]);
  });

  test('excludes text duplicates of any meta-chunk by normalized hash', () => {
    const meta = ['The Quick  brown fox.\n', 'Second chunk'];
    const c = ctx({ metaHashes: new Set(meta.map(textHash)) });
    const hits = [
      hit('a', 0.99, '  the quick brown\tFOX. '), // same after normalization
      hit('b', 0.98, 'ＳＥＣＯＮＤ　chunk'), // NFKC full-width + ideographic space
      hit('c', 0.97, 'the quick brown fox'), // different (no full stop)
      hit('d', 0.96, 'another text'),
    ];
    const r = selectTopK(hits, 5, c);
    expect(r.taken.map((h) => h.docId)).toEqual(['c', 'd']);
    expect(r.skips.duplicate).toBe(2);
  });

  test('the similarity ceiling is strict and off by default', () => {
    const hits = [hit('a', 0.99), hit('b', 0.95), hit('c', 0.9)];
    expect(selectTopK(hits, 3, ctx()).taken).toHaveLength(3);
    const r = selectTopK(hits, 3, ctx({ ceiling: 0.95 }));
    expect(r.taken.map((h) => h.docId)).toEqual(['b', 'c']);
    expect(r.skips.ceiling).toBe(1);
  });

  test('k ≤ 0 takes nothing; a short list gives fewer than k (no padding)', () => {
    const hits = [hit('a', 0.9), hit('meta', 0.8), hit('b', 0.7)];
    expect(selectTopK(hits, 0, ctx()).taken).toEqual([]);
    expect(selectTopK(hits, -3, ctx()).taken).toEqual([]);
    const r = selectTopK(hits, 10, ctx());
    expect(r.taken.map((h) => h.docId)).toEqual(['a', 'b']);
    expect(r.skips.self).toBe(1);
  });

  test('each candidate is counted under its first failing rule only', () => {
    const dupText = 'dup';
    const selfUsed = hit('meta', 0.9, dupText);
    const usedDup = hit('x', 0.8, dupText);
    const c = ctx({ used: new Set([selfUsed.key, usedDup.key]), metaHashes: new Set([textHash(dupText)]), ceiling: 0.5 });
    const skips = emptySkips();
    expect([...eligible([selfUsed, usedDup, hit('y', 0.7, dupText), hit('z', 0.6), hit('w', 0.4)], c, skips)].map((h) => h.docId)).toEqual([
      'w',
    ]);
    expect(skips).toEqual({ self: 1, reused: 1, duplicate: 1, ceiling: 1 });
  });

  test('stops consuming the list once k are taken (lazy)', () => {
    const hits = [hit('a', 0.9), hit('meta', 0.8), hit('b', 0.7)];
    const r = selectTopK(hits, 1, ctx());
    expect(r.taken.map((h) => h.docId)).toEqual(['a']);
    expect(r.skips.self).toBe(0);
  });
});

describe('compareHits', () => {
  test('descending score, ties by ascending key', () => {
    const hs: Hit[] = [
      { key: 5, docId: 'a', chunk: 0, score: 0.5, hash: 0 },
      { key: 2, docId: 'b', chunk: 0, score: 0.5, hash: 0 },
      { key: 9, docId: 'c', chunk: 0, score: 0.9, hash: 0 },
      { key: 1, docId: 'd', chunk: 0, score: -0.1, hash: 0 },
    ];
    expect(hs.sort(compareHits).map((h) => h.key)).toEqual([9, 2, 5, 1]);
  });
});

describe('normalizeForDedup / textHash', () => {
  test('case-folded, NFKC, whitespace collapsed and trimmed', () => {
    expect(normalizeForDedup('  Hello\r\n\tWORLD  ')).toBe('hello world');
    expect(normalizeForDedup('ﬁne Ⅻ')).toBe('fine xii');
    expect(textHash('Hello  World')).toBe(textHash('hello world\n'));
    expect(textHash('hello world')).not.toBe(textHash('hello world!'));
  });
  test('hashes are stable 53-bit integers', () => {
    const h = textHash('some chunk text');
    expect(Number.isSafeInteger(h)).toBe(true);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(textHash('some chunk text')).toBe(h);
  });
});
