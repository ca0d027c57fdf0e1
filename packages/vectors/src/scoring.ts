/**
 * Exact scoring and ranking shared by the ANN and brute-force paths. Scores are computed here,
 * in JavaScript, from the stored float32 vectors (products summed in float64, in index order),
 * so they are the same on every machine and never depend on the ANN's SIMD arithmetic.
 */

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
}

/** Best first: descending score, ties by ascending key (DESIGN §3.4). */
export function compareRanked(a: { score: number; key: number }, b: { score: number; key: number }): number {
  return b.score - a.score || a.key - b.key;
}

export interface Ranked {
  key: number;
  score: number;
}

/** Re-scores `candidates` exactly, drops `skip`ped ones, ranks them and keeps the best `limit`. */
export function rescore(
  rows: ScoredRows,
  q: Float32Array,
  candidates: ArrayLike<number>,
  limit: number,
  skip: (key: number) => boolean,
): Ranked[] {
  const out: Ranked[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const key = candidates[i];
    if (!skip(key)) out.push({ key, score: rows.score(key, q) });
  }
  out.sort(compareRanked);
  if (out.length > limit) out.length = limit;
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
