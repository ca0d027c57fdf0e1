import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compareRanked, dotAt, dotRows, rescore, type Ranked } from './scoring.js';
import { clusteredVectors, tempStore } from './test-support.js';
import { VectorRows } from './vector-rows.js';

const dim = 37; // odd on purpose: no loop may assume a multiple of 4 or 8
const count = 300;
const rows = clusteredVectors(count, dim, 5, 11);
const flat = new Float32Array(count * dim);
rows.forEach((v, k) => flat.set(v, k * dim));
// Rows 10 and 20 are copies of row 5: equal scores, told apart by key.
for (const k of [10, 20]) flat.copyWithin(k * dim, 5 * dim, 6 * dim);
const query = rows[3];

/** The reference: score each candidate with dotAt, sort Ranked objects with compareRanked. */
function naive(candidates: number[], limit: number, skip: (key: number) => boolean): Ranked[] {
  const out = candidates.filter((k) => !skip(k)).map((key) => ({ key, score: dotAt(flat, key * dim, query) }));
  return out.sort(compareRanked).slice(0, limit);
}

const inMemory = { count, score: (k: number, q: Float32Array) => dotAt(flat, k * dim, q), scan: () => {}, scoreKeys: (q: Float32Array, keys: Uint32Array, n: number, out: Float64Array) => dotRows(flat, dim, q, keys, n, out) };

describe('exact scoring', () => {
  test('dotRows equals dotAt bit for bit, for any count of keys (repeats included)', () => {
    for (const n of [0, 1, 3, 4, 5, 8, 9, 299]) {
      const keys = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % count);
      const out = new Float64Array(n);
      dotRows(flat, dim, query, keys, n, out);
      keys.forEach((k, i) => expect(Object.is(out[i], dotAt(flat, k * dim, query))).toBe(true));
    }
  });

  test('rescore ranks like sorting Ranked objects: skip, ties by key, limit', () => {
    const candidates = [20, 7, 5, 299, 10, 0, 150, 151, 42, 3, 77, 78, 79];
    const skip = (k: number) => k === 150 || k === 3;
    for (const limit of [0, 1, 4, 10, 100]) {
      const keys = Uint32Array.from(candidates);
      const got = rescore(inMemory, query, keys, keys.length, limit, skip);
      expect(got).toEqual(naive(candidates, limit, skip));
    }
    const tied = rescore(inMemory, rows[5], Uint32Array.from([20, 5, 10]), 3, 3, () => false);
    expect(tied.map((r) => r.key)).toEqual([5, 10, 20]);
    expect(new Set(tied.map((r) => r.score)).size).toBe(1);
  });

  test('rescore reads only the first `count` candidates', () => {
    const keys = Uint32Array.from([1, 2, 3, 4, 5, 6]);
    expect(rescore(inMemory, query, keys, 3, 10, () => false).map((r) => r.key).sort()).toEqual([1, 2, 3]);
  });

  test('VectorRows.scoreKeys gives the same values read on demand or held in memory', async () => {
    const { dir, cleanup } = await tempStore();
    try {
      const file = path.join(dir, 'vectors.f32');
      await writeFile(file, new Uint8Array(flat.buffer));
      const onDisk = VectorRows.open(file, dim, count, 'vectors', 0);
      const held = VectorRows.open(file, dim, count, 'vectors', 1 << 30);
      expect([onDisk.inMemory, held.inMemory]).toEqual([false, true]);
      const keys = Uint32Array.from({ length: 123 }, (_, i) => (i * 31) % count);
      const [a, b] = [new Float64Array(123), new Float64Array(123)];
      onDisk.scoreKeys(query, keys, 123, a);
      held.scoreKeys(query, keys, 123, b);
      expect(Array.from(a)).toEqual(Array.from(b));
      keys.forEach((k, i) => expect(a[i]).toBe(held.score(k, query)));
      onDisk.close();
      held.close();
    } finally {
      await cleanup();
    }
  });
});
