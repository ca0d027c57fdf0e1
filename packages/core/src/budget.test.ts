import { exactGroupTargets, measureCharsPerToken, paperNegativesPerChunk, type PaperBudgetInput } from './budget.js';
import type { Tokenizer } from './ports.js';

const paper = (o: Partial<PaperBudgetInput>): number =>
  paperNegativesPerChunk({ targetTokens: 131072, charsPerToken: 4, weight: 1.5, docChars: 10000, metaChunks: 5, chunkChars: 2048, ...o });

describe('paperNegativesPerChunk: k = ceil((T·E·w − S) / (p·s))', () => {
  test('the paper numbers', () => {
    // (131072·4·1.5 − 10000) / (5·2048) = 776432 / 10240 = 75.82… → 76
    expect(paper({})).toBe(76);
    // one meta-chunk of 2048: (786432 − 2048) / 2048 = 383
    expect(paper({ docChars: 2048, metaChunks: 1 })).toBe(383);
  });

  test('an exact quotient is not rounded up', () => {
    // (1000·2·1 − 0) / (1·1000) = 2 exactly
    expect(paper({ targetTokens: 1000, charsPerToken: 2, weight: 1, docChars: 0, metaChunks: 1, chunkChars: 1000 })).toBe(2);
    // one character more of room → 3
    expect(paper({ targetTokens: 1000, charsPerToken: 2, weight: 1, docChars: -1, metaChunks: 1, chunkChars: 1000 })).toBe(3);
  });

  test('a fractional E and w', () => {
    // (4096·3.7·1.5 − 3000) / (2·2048) = (22732.8 − 3000) / 4096 = 4.817… → 5
    expect(paper({ targetTokens: 4096, charsPerToken: 3.7, docChars: 3000, metaChunks: 2 })).toBe(5);
  });

  test('k < 0 becomes 0; k = 0 stays 0', () => {
    expect(paper({ docChars: 10_000_000 })).toBe(0);
    expect(paper({ targetTokens: 1000, charsPerToken: 2, weight: 1, docChars: 2000, metaChunks: 1, chunkChars: 1000 })).toBe(0);
    // slightly over: ceil of a small negative is -0, reported as 0
    const k = paper({ targetTokens: 1000, charsPerToken: 2, weight: 1, docChars: 2001, metaChunks: 1, chunkChars: 1000 });
    expect(k).toBe(0);
    expect(Object.is(k, -0)).toBe(false);
  });

  test('no meta-chunks → 0', () => {
    expect(paper({ metaChunks: 0 })).toBe(0);
  });
});

/** A fake tokenizer: one token per whitespace-separated word. */
const wordTokenizer: Tokenizer = {
  name: 'words',
  encode: (t) => Uint32Array.from(t.split(/\s+/u).filter(Boolean), (_, i) => i),
  count: (t) => t.split(/\s+/u).filter(Boolean).length,
  decode: () => '',
  prefixEnd: () => 0,
};

describe('measureCharsPerToken', () => {
  test('code points over tokens across the whole sample', () => {
    // "ab cd" = 5 code points, 2 tokens; "efg" = 3, 1 → 8 / 3
    expect(measureCharsPerToken(wordTokenizer, ['ab cd', 'efg'])).toBeCloseTo(8 / 3, 12);
  });

  test('astral characters count once', () => {
    expect(measureCharsPerToken(wordTokenizer, ['😀😀 😀😀'])).toBe(5 / 2);
  });

  test('accepts any iterable (a generator)', () => {
    function* g() {
      yield 'one two';
      yield 'three';
    }
    expect(measureCharsPerToken(wordTokenizer, g())).toBe(12 / 3);
  });

  test('a sample without tokens is an error', () => {
    expect(() => measureCharsPerToken(wordTokenizer, [])).toThrow(/no tokens/);
    expect(() => measureCharsPerToken(wordTokenizer, ['   '])).toThrow(/no tokens/);
  });
});

describe('exactGroupTargets', () => {
  test('cumulative shares of the room left after meta-chunks and separators', () => {
    // room = 1000 − (100+200+100) − 2·1 = 598
    expect(exactGroupTargets(1000, [100, 200, 100], 1)).toEqual([199, 398, 598]);
  });
  test('no room → zeros', () => {
    expect(exactGroupTargets(100, [90, 50], 1)).toEqual([0, 0]);
  });
  test('targets never decrease and end at the room', () => {
    const t = exactGroupTargets(131072, [500, 480, 12, 512, 333, 7], 1);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    expect(t[t.length - 1]).toBe(131072 - (500 + 480 + 12 + 512 + 333 + 7) - 5);
  });
});
