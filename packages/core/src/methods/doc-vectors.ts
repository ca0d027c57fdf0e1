/** Document vectors: the normalised mean of a document's chunk vectors, in one row-major matrix. */

/** The L2-normalised mean of `vectors` (all of one dimension); a zero vector stays zero. */
export function meanVector(vectors: ArrayLike<number>[], dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) out[i]! += v[i]!;
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += out[i]! * out[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dim; i++) out[i]! /= norm;
  return out;
}

export interface Ranked {
  ord: number;
  score: number;
}

/** `count` document vectors of `dim` floats, row-major; document ordinals are row numbers. */
export class DocMatrix {
  constructor(
    readonly dim: number,
    readonly count: number,
    readonly data: Float32Array,
  ) {
    if (data.length !== dim * count) throw new Error(`DocMatrix: ${data.length} floats for ${count} × ${dim}`);
  }

  static of(rows: Float32Array[], dim: number): DocMatrix {
    const data = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => data.set(r.subarray(0, dim), i * dim));
    return new DocMatrix(dim, rows.length, data);
  }

  row(ord: number): Float32Array {
    return this.data.subarray(ord * this.dim, (ord + 1) * this.dim);
  }

  /** Cosine of row `ord` to `q` (both normalised). */
  score(ord: number, q: Float32Array): number {
    let s = 0;
    const base = ord * this.dim;
    for (let i = 0; i < this.dim; i++) s += this.data[base + i]! * q[i]!;
    return s;
  }

  /** Every row but the skipped ones, by descending cosine to `q`, ties by ascending ordinal (exact). */
  rank(q: Float32Array, skip: (ord: number) => boolean = () => false): Ranked[] {
    const out: Ranked[] = [];
    for (let ord = 0; ord < this.count; ord++) if (!skip(ord)) out.push({ ord, score: this.score(ord, q) });
    return out.sort(compareRanked);
  }
}

export function compareRanked(a: Ranked, b: Ranked): number {
  return b.score - a.score || a.ord - b.ord;
}
