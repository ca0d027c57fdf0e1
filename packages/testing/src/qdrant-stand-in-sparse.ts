/**
 * Sparse vectors for the Qdrant stand-in (qdrant-stand-in-collection.ts), as Qdrant's OpenAPI
 * document and its docs describe them: named `sparse_vectors` in the collection, `{indices,
 * values}` per point under that name, queried with `using` the name; with `modifier: "idf"` each
 * query value is multiplied at query time by idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)),
 * N the points of the collection and n(t) those whose vector holds index t.
 */
import { StandInError } from './qdrant-stand-in-errors.js';

export interface SparseVector {
  indices: number[];
  values: number[];
}

export function checkSparse(name: string, v: unknown): SparseVector {
  const s = v as Partial<SparseVector>;
  if (!Array.isArray(s?.indices) || !Array.isArray(s.values))
    throw new StandInError(400, `Wrong input: vector "${name}" is not a sparse vector`);
  if (s.indices.length !== s.values.length)
    throw new StandInError(400, `Validation error in JSON body: [${name}: must be the same length as indices]`);
  if (new Set(s.indices).size !== s.indices.length) throw new StandInError(400, `Validation error in JSON body: [${name}: indices must be unique]`);
  return { indices: s.indices, values: s.values };
}

/** Scores of sparse query `q` against each point's vector `name` (undefined: the point has none). */
export function sparseScores(q: SparseVector, vectors: (SparseVector | undefined)[], idf: boolean): number[] {
  const n = vectors.length;
  const weight = new Map<number, number>();
  q.indices.forEach((t, i) => weight.set(t, q.values[i]!));
  if (idf) {
    const df = new Map<number, number>();
    for (const v of vectors) for (const t of v?.indices ?? []) if (weight.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
    for (const t of weight.keys()) {
      const d = df.get(t) ?? 0;
      weight.set(t, weight.get(t)! * Math.log(1 + (n - d + 0.5) / (d + 0.5)));
    }
  }
  return vectors.map((v) => {
    let s = 0;
    v?.indices.forEach((t, i) => {
      const w = weight.get(t);
      if (w !== undefined) s += w * v.values[i]!;
    });
    return Math.fround(s);
  });
}
