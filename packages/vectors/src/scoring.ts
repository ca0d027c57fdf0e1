/**
 * Exact scoring and ranking shared by the ANN and brute-force paths. Scores are computed here,
 * in JavaScript, from the stored vectors (each value dequantized exactly, products summed in
 * float64, in index order), so they are the same on every machine and thread count and never
 * depend on the ANN's SIMD arithmetic.
 */
import { f16Values, type StoredRows, type VectorType } from './vector-types.js';

/** Dot product of `q` with the row starting at `base` of `vectors` (L2-normalized rows: the cosine). */
export function dotAt(vectors: Float32Array, base: number, q: Float32Array): number {
  let s = 0;
  for (let j = 0; j < q.length; j++) s += vectors[base + j] * q[j];
  return s;
}

/** Where the stored vectors are read from (vector-rows.ts): scores of given rows, or of all in key order. */
export interface ScoredRows {
  readonly count: number;
  /** Exact score of row `key` against `q`. */
  score(key: number, q: Float32Array): number;
  /** Calls `visit(key, score)` for every row, by ascending key. */
  scan(q: Float32Array, visit: (key: number, score: number) => void): void;
  /** Writes the exact score of row `keys[i]` to `out[i]` for i < n (each equal to `score`). */
  scoreKeys(q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void;
}

/**
 * Scores of rows `keys[0..n-1]` of the in-memory `vectors` into `out`. Four rows share one pass
 * over `q` (independent sums: the CPU overlaps them and their cache misses); each row's sum is
 * still accumulated in float64 in index order, so every value equals `dotAt` bit for bit.
 */
export function dotRows(vectors: Float32Array, dim: number, q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const b0 = keys[i] * dim;
    const b1 = keys[i + 1] * dim;
    const b2 = keys[i + 2] * dim;
    const b3 = keys[i + 3] * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < dim; j++) {
      const x = q[j];
      s0 += vectors[b0 + j] * x;
      s1 += vectors[b1 + j] * x;
      s2 += vectors[b2 + j] * x;
      s3 += vectors[b3 + j] * x;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) out[i] = dotAt(vectors, keys[i] * dim, q);
}

/** `dotAt` of half-float rows: each value is its exact float32 (a table read), the sum as for f32. */
export function dotAtF16(bits: Uint16Array, base: number, q: Float32Array): number {
  const t = f16Values();
  let s = 0;
  for (let j = 0; j < q.length; j++) s += t[bits[base + j]] * q[j];
  return s;
}

/**
 * Cosine of the int8 row at `base` with `q` (a unit query: the cosine is the dot product with the
 * row scaled to unit length). The row's scale was not stored and does not matter here; the integer
 * sums are exact, the dot product is summed as for f32. A zero row scores 0, as it does as f32.
 */
export function cosAtI8(v: Int8Array, base: number, q: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let j = 0; j < q.length; j++) {
    const x = v[base + j];
    s += x * q[j];
    n += x * x;
  }
  return n > 0 ? s / Math.sqrt(n) : 0;
}

/** `dotRows` of half-float rows (values equal to `dotAtF16`'s bit for bit). */
export function dotRowsF16(bits: Uint16Array, dim: number, q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void {
  const t = f16Values();
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const b0 = keys[i] * dim;
    const b1 = keys[i + 1] * dim;
    const b2 = keys[i + 2] * dim;
    const b3 = keys[i + 3] * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < dim; j++) {
      const x = q[j];
      s0 += t[bits[b0 + j]] * x;
      s1 += t[bits[b1 + j]] * x;
      s2 += t[bits[b2 + j]] * x;
      s3 += t[bits[b3 + j]] * x;
    }
    out[i] = s0;
    out[i + 1] = s1;
    out[i + 2] = s2;
    out[i + 3] = s3;
  }
  for (; i < n; i++) out[i] = dotAtF16(bits, keys[i] * dim, q);
}

/** `cosAtI8` of rows `keys[0..n-1]`, two rows a pass (values equal to `cosAtI8`'s bit for bit). */
export function cosRowsI8(v: Int8Array, dim: number, q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const b0 = keys[i] * dim;
    const b1 = keys[i + 1] * dim;
    let s0 = 0;
    let s1 = 0;
    let n0 = 0;
    let n1 = 0;
    for (let j = 0; j < dim; j++) {
      const x = q[j];
      const v0 = v[b0 + j];
      const v1 = v[b1 + j];
      s0 += v0 * x;
      s1 += v1 * x;
      n0 += v0 * v0;
      n1 += v1 * v1;
    }
    out[i] = n0 > 0 ? s0 / Math.sqrt(n0) : 0;
    out[i + 1] = n1 > 0 ? s1 / Math.sqrt(n1) : 0;
  }
  for (; i < n; i++) out[i] = cosAtI8(v, keys[i] * dim, q);
}

/** The exact score of one stored row (`at`) and of many (`rows`, equal values), per stored type. */
export interface RowKernel {
  at(rows: StoredRows, base: number, q: Float32Array): number;
  rows(rows: StoredRows, dim: number, q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void;
}

export const ROW_KERNELS: Record<VectorType, RowKernel> = {
  f32: { at: (r, b, q) => dotAt(r as Float32Array, b, q), rows: (r, d, q, k, n, o) => dotRows(r as Float32Array, d, q, k, n, o) },
  f16: { at: (r, b, q) => dotAtF16(r as Uint16Array, b, q), rows: (r, d, q, k, n, o) => dotRowsF16(r as Uint16Array, d, q, k, n, o) },
  i8: { at: (r, b, q) => cosAtI8(r as Int8Array, b, q), rows: (r, d, q, k, n, o) => cosRowsI8(r as Int8Array, d, q, k, n, o) },
};

/** Best first: descending score, ties by ascending key (DESIGN §3.4). */
export function compareRanked(a: { score: number; key: number }, b: { score: number; key: number }): number {
  return b.score - a.score || a.key - b.key;
}

export interface Ranked {
  key: number;
  score: number;
}

/**
 * Re-scores `candidates[0..count-1]` exactly, drops `skip`ped ones, ranks them and keeps the best
 * `limit`. Works on typed arrays (the candidate keys are compacted in place) and sorts candidate
 * positions with the same comparisons as `compareRanked`, so the ranking is the same as sorting
 * `Ranked` objects.
 */
export function rescore(
  rows: ScoredRows,
  q: Float32Array,
  candidates: Uint32Array,
  count: number,
  limit: number,
  skip: (key: number) => boolean,
): Ranked[] {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const key = candidates[i];
    if (!skip(key)) candidates[n++] = key;
  }
  const scores = new Float64Array(n);
  rows.scoreKeys(q, candidates, n, scores);
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(i);
  order.sort((a, b) => scores[b] - scores[a] || candidates[a] - candidates[b]);
  const keep = Math.min(n, limit);
  const out: Ranked[] = new Array(keep);
  for (let i = 0; i < keep; i++) out[i] = { key: candidates[order[i]], score: scores[order[i]] };
  return out;
}

/**
 * Brute-force top `limit` over all rows (recall checks, small pools). A bounded min-heap
 * keyed by (score, -key): rows are visited by ascending key, so an equal score never
 * displaces an earlier (smaller) key, which is exactly the tie rule.
 */
export function exactTopK(rows: ScoredRows, q: Float32Array, limit: number, skip: (key: number) => boolean): Ranked[] {
  const keys = new Int32Array(limit);
  const scores = new Float64Array(limit);
  let size = 0;
  // worse(i, j): heap entry i ranks below entry j.
  const worse = (i: number, j: number) => scores[i] < scores[j] || (scores[i] === scores[j] && keys[i] > keys[j]);
  const swap = (i: number, j: number) => {
    const k = keys[i];
    keys[i] = keys[j];
    keys[j] = k;
    const s = scores[i];
    scores[i] = scores[j];
    scores[j] = s;
  };
  rows.scan(q, (key, score) => {
    if (skip(key)) return;
    if (size < limit) {
      keys[size] = key;
      scores[size] = score;
      for (let i = size++; i > 0;) {
        const p = (i - 1) >> 1;
        if (!worse(i, p)) break;
        swap(i, p);
        i = p;
      }
    } else if (limit > 0 && score > scores[0]) {
      keys[0] = key;
      scores[0] = score;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < size && worse(l, m)) m = l;
        if (r < size && worse(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    }
  });
  const out: Ranked[] = [];
  for (let i = 0; i < size; i++) out.push({ key: keys[i], score: scores[i] });
  return out.sort(compareRanked);
}
