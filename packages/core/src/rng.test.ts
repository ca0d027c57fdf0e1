import { Rng, sampleIndices } from './rng.js';

describe('Rng', () => {
  test('same seed, same stream; different seeds differ', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  test('string seeds are deterministic', () => {
    const x = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng('0:doc-1')),
    );
    const y = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng('0:doc-1')),
    );
    const z = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng('0:doc-2')),
    );
    expect(y).toEqual(x);
    expect(z).not.toEqual(x);
  });

  test('a fixed stream: mulberry32, platform-independent values', () => {
    const r = new Rng(0);
    // mulberry32(0) starts 0.26642920868471265, … (as uint32: 1144304738, 1416247, 958946056)
    expect([r.next(), r.next(), r.next()].map((v) => v * 4294967296)).toEqual([1144304738, 1416247, 958946056]);
  });

  test('int(n) is in [0, n) and hits every value', () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(10);
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      seen.add(v);
    }
    expect(seen.size).toBe(10);
    expect(new Rng(1).int(1)).toBe(0);
  });
});

describe('sampleIndices', () => {
  test('exactly n distinct indices in [0, total), ascending', () => {
    for (const [total, n, seed] of [
      [100, 10, 0],
      [1000, 999, 1],
      [5, 1, 2],
      [1_000_000, 50, 'x'],
      [10, 0, 3],
    ] as const) {
      const s = sampleIndices(total, n, seed);
      expect(s).toHaveLength(n);
      expect(new Set(s).size).toBe(n);
      for (let i = 0; i < s.length; i++) {
        expect(Number.isInteger(s[i])).toBe(true);
        expect(s[i]!).toBeGreaterThanOrEqual(0);
        expect(s[i]!).toBeLessThan(total);
        if (i > 0) expect(s[i]!).toBeGreaterThan(s[i - 1]!);
      }
    }
  });

  test('n ≥ total → every index', () => {
    expect(sampleIndices(5, 5, 0)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(3, 10, 0)).toEqual([0, 1, 2]);
    expect(sampleIndices(0, 3, 0)).toEqual([]);
  });

  test('seeded: same seed → same sample; other seeds → other samples', () => {
    const a = sampleIndices(10_000, 20, 123);
    expect(sampleIndices(10_000, 20, 123)).toEqual(a);
    const others = [124, 125, 126].map((s) => sampleIndices(10_000, 20, s));
    for (const o of others) expect(o).not.toEqual(a);
  });

  test('every index can be chosen (no index is unreachable)', () => {
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 500; seed++) for (const i of sampleIndices(10, 3, seed)) counts[i]!++;
    for (const c of counts) expect(c).toBeGreaterThan(50); // expected 150 each
  });
});
