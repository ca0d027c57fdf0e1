/**
 * Word-vector weighting for the static model: SIF (Arora, Liang & Ma, ICLR 2017, "A simple but
 * tough-to-beat baseline for sentence embeddings") with word probabilities estimated from rank.
 *
 * Frequency estimate: GloVe's list is ordered by corpus frequency but carries no counts, so we
 * assume Zipf's law with exponent 1 over the whole list of N words:
 *   p(rank r) = (1 / r) / H_N,  r = 1..N,  H_N = Σ_{k=1..N} 1/k  (≈ 13.3 for N = 341,479).
 * This gives p("the") ≈ 7.5 %, close to its measured share of English text (5–7 %).
 * Each vector is scaled by a / (a + p(w)), a = 1e-3: "the" ≈ 0.013, rank 1000 ≈ 0.93.
 *
 * Common component removal: SIF subtracts the projection on the first singular vector of a
 * corpus's sentence embeddings. Having no corpus at build time, we take the first singular
 * vector(s) of the weighted word vectors under the same Zipf distribution (the expected
 * sentence is a p-weighted mix of words) and remove it from every row; because pooling is
 * linear, that removes it from every pooled sentence vector too. On documentation prose this
 * lowers the mean cosine between unrelated chunks from ~0.93 to ~0.75 and makes a chunk's
 * nearest neighbour more often another chunk of its own document (0.56 → 0.59).
 *
 * Everything is float64 arithmetic in a fixed order (no Math.hypot), so the table is
 * bit-identical across runs and platforms.
 */

/** H_N: the Zipf normaliser for a list of n words. */
export function harmonic(n: number): number {
  let h = 0;
  for (let k = n; k >= 1; k--) h += 1 / k; // small terms first: fixed order, less rounding
  return h;
}

/** Zipf estimate of the probability of the word at 0-based `rank` in a list of `total` words. */
export function zipfProbability(rank: number, harmonicTotal: number): number {
  return 1 / ((rank + 1) * harmonicTotal);
}

export function sifWeight(p: number, a: number): number {
  return a / (a + p);
}

export interface WeightOptions {
  /** SIF smoothing constant a. */
  a: number;
  /** How many leading singular directions to remove (0 = none). */
  removeComponents: number;
}

/**
 * SIF-weighted rows (float64, `count × dim`, rank order) with the common direction(s) removed.
 * `totalWords` is the size of the full frequency list, which fixes the Zipf estimate.
 */
export function weightedRows(vectors: Float32Array, dim: number, totalWords: number, opts: WeightOptions): Float64Array {
  const count = vectors.length / dim;
  const h = harmonic(totalWords);
  const rows = new Float64Array(count * dim);
  const probs = new Float64Array(count);
  for (let w = 0; w < count; w++) {
    probs[w] = zipfProbability(w, h);
    const s = sifWeight(probs[w], opts.a);
    for (let d = 0; d < dim; d++) rows[w * dim + d] = s * vectors[w * dim + d];
  }
  for (let k = 0; k < opts.removeComponents; k++) {
    const u = topDirection(secondMoment(rows, probs, dim), dim);
    removeDirection(rows, u, dim);
  }
  return rows;
}

/** Σ_w p(w) x_w x_wᵀ (uncentred, as SIF's common component is), upper triangle mirrored. */
function secondMoment(rows: Float64Array, probs: Float64Array, dim: number): Float64Array {
  const m = new Float64Array(dim * dim);
  for (let w = 0; w < probs.length; w++) {
    const base = w * dim;
    const pw = probs[w];
    for (let i = 0; i < dim; i++) {
      const xi = pw * rows[base + i];
      for (let j = i; j < dim; j++) m[i * dim + j] += xi * rows[base + j];
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) m[i * dim + j] = m[j * dim + i];
  return m;
}

/** Leading eigenvector by power iteration from a fixed start, a fixed number of steps. */
function topDirection(m: Float64Array, dim: number): Float64Array {
  let u = new Float64Array(dim).fill(1 / Math.sqrt(dim));
  for (let it = 0; it < 300; it++) {
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += m[i * dim + j] * u[j];
      v[i] = s;
    }
    const n = norm(v);
    if (n === 0) return v; // degenerate (all-zero rows): nothing to remove
    for (let i = 0; i < dim; i++) v[i] /= n;
    u = v;
  }
  return u;
}

function removeDirection(rows: Float64Array, u: Float64Array, dim: number): void {
  for (let base = 0; base < rows.length; base += dim) {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += rows[base + d] * u[d];
    for (let d = 0; d < dim; d++) rows[base + d] -= dot * u[d];
  }
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
