import { Rng } from '../rng.js';
import { randomDocuments } from './standard.js';

describe('standard: seeded uniform draws without replacement', () => {
  test('a permutation of the pool, minus the skipped document', () => {
    const got = [...randomDocuments(50, new Rng('s'), (o) => o === 7)];
    expect(got).toHaveLength(49);
    expect(new Set(got).size).toBe(49);
    expect(got).not.toContain(7);
    expect(got.every((o) => o >= 0 && o < 50)).toBe(true);
  });

  test('same seed, same order; another seed, another order', () => {
    const a = [...randomDocuments(100, new Rng('0:standard:d1'))];
    expect([...randomDocuments(100, new Rng('0:standard:d1'))]).toEqual(a);
    expect([...randomDocuments(100, new Rng('1:standard:d1'))]).not.toEqual(a);
  });

  test('uniform: every position is uniform over the pool (chi-square, 1000 seeds)', () => {
    const n = 20;
    const seeds = 1000;
    for (const pos of [0, 1, 10]) {
      const counts = new Array<number>(n).fill(0);
      for (let s = 0; s < seeds; s++) counts[[...randomDocuments(n, new Rng(`seed-${s}`))][pos]!]!++;
      const expected = seeds / n;
      const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
      // 19 degrees of freedom: P(chi² > 43.8) = 0.001
      expect(chi2).toBeLessThan(43.8);
    }
    // and a biased draw fails the same check (the test can fail)
    const biased = new Array<number>(n).fill(0);
    for (let s = 0; s < seeds; s++) biased[Math.min(n - 1, Math.floor(new Rng(`seed-${s}`).next() ** 1.5 * n))]!++;
    expect(biased.reduce((a, c) => a + (c - seeds / n) ** 2 / (seeds / n), 0)).toBeGreaterThan(43.8);
  });
});
