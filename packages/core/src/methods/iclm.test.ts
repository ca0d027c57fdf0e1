import { DocMatrix, meanVector } from './doc-vectors.js';
import { iclmPath, knnGraph } from './iclm.js';
import { Rng } from '../rng.js';

function randomMatrix(n: number, dim: number, seed: string): DocMatrix {
  const rng = new Rng(seed);
  return DocMatrix.of(
    Array.from({ length: n }, () => meanVector([Array.from({ length: dim }, () => rng.next() - 0.5)], dim)),
    dim,
  );
}

describe('document vectors and the ICLM traversal', () => {
  test('meanVector: the normalised mean; a zero vector stays zero', () => {
    const v = meanVector(
      [
        [1, 0],
        [1, 2],
      ],
      2,
    );
    expect(v[0]).toBeCloseTo(1 / Math.SQRT2);
    expect(v[1]).toBeCloseTo(1 / Math.SQRT2);
    expect([
      ...meanVector(
        [
          [1, -1],
          [-1, 1],
        ],
        2,
      ),
    ]).toEqual([0, 0]);
  });

  test('rank: descending cosine, ties by ordinal, skipped rows left out', () => {
    const m = DocMatrix.of([new Float32Array([1, 0]), new Float32Array([0, 1]), new Float32Array([1, 0]), new Float32Array([0.6, 0.8])], 2);
    expect(m.rank(new Float32Array([1, 0]), (o) => o === 3).map((r) => r.ord)).toEqual([0, 2, 1]);
  });

  test('knnGraph: k others per document, self excluded, by descending cosine', () => {
    const m = randomMatrix(40, 8, 'g');
    const g = knnGraph(m, 5);
    g.forEach((row, i) => {
      expect(row).toHaveLength(5);
      expect(row.some((r) => r.ord === i)).toBe(false);
      for (let j = 1; j < row.length; j++) expect(row[j - 1]!.score).toBeGreaterThanOrEqual(row[j]!.score);
      // nothing outside the list is closer than its last entry
      const worst = row[4]!.score;
      for (let o = 0; o < m.count; o++)
        if (o !== i && !row.some((r) => r.ord === o)) expect(m.score(o, m.row(i))).toBeLessThanOrEqual(worst);
    });
  });

  test('path: every document exactly once; each step goes to the most similar unvisited neighbour', () => {
    const m = randomMatrix(60, 8, 'p');
    const k = 4;
    const path = iclmPath(m, k);
    expect(path.map((s) => s.ord).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const graph = knnGraph(m, k);
    const seen = new Set<number>();
    path.forEach((s, i) => {
      if (i > 0) {
        const best = graph[path[i - 1]!.ord]!.find((n) => !seen.has(n.ord));
        if (best) expect(s).toEqual({ ord: best.ord, score: best.score });
        else expect(s).toEqual({ ord: Math.min(...[...Array(60).keys()].filter((o) => !seen.has(o))) }); // jump
      }
      seen.add(s.ord);
    });
    expect(path.filter((s) => s.score === undefined).length).toBeGreaterThan(0); // k=4 gets stuck somewhere
    expect(iclmPath(m, k)).toEqual(path); // deterministic
  });
});
