/**
 * Token vectors [rows, cols, dim] → one vector per row, as sentence-transformers' Pooling module
 * computes it. Rows are right-padded (row r's real tokens are its first lengths[r] columns), so
 * a text's vector never depends on its batch. `skip` leading tokens (the prompt, when the folder
 * says include_prompt: false) are masked out as sentence-transformers masks them.
 */
import { maskedMeanPool, type PaddedBatch } from './batching.js';
import type { Pooling } from './model-folder.js';

type Rows = Pick<PaddedBatch, 'rows' | 'cols' | 'lengths'>;

export function poolTokens(mode: Pooling, hidden: Float32Array, batch: Rows, dim: number, skip = 0): Float32Array[] {
  // the long-standing masked mean (float64 sums): unchanged vectors for folders that used it
  if (mode === 'mean' && skip === 0) return maskedMeanPool(hidden, batch, dim);
  const out: Float32Array[] = [];
  for (let r = 0; r < batch.rows; r++) {
    const from = Math.min(skip, batch.lengths[r]);
    const to = batch.lengths[r];
    const at = (c: number) => (r * batch.cols + c) * dim;
    const v = new Float32Array(dim);
    if (mode === 'cls') {
      // token 0 whatever the mask (sentence-transformers: token_embeddings[:, 0])
      v.set(hidden.subarray(at(0), at(0) + dim));
    } else if (mode === 'lasttoken') {
      // the last unmasked token; none left → position 0, as torch's flip/argmax gives
      const c = to > from ? to - 1 : 0;
      v.set(hidden.subarray(at(c), at(c) + dim));
    } else if (mode === 'max') {
      // masked positions are -1e9 in sentence-transformers, so an empty row is all -1e9
      v.fill(-1e9);
      for (let c = from; c < to; c++) for (let d = 0; d < dim; d++) v[d] = Math.max(v[d], hidden[at(c) + d]);
    } else {
      const acc = new Float64Array(dim);
      for (let c = from; c < to; c++) for (let d = 0; d < dim; d++) acc[d] += hidden[at(c) + d];
      const n = to - from;
      // clamp(min=1e-9) on the count as sentence-transformers does: an empty row stays zero
      const div = mode === 'mean' ? Math.max(n, 1e-9) : Math.sqrt(Math.max(n, 1e-9));
      for (let d = 0; d < dim; d++) v[d] = acc[d] / div;
    }
    out.push(v);
  }
  return out;
}

/** The first `dim` values (a Matryoshka prefix), still to be normalized. */
export function truncateDims(v: Float32Array, dim: number | undefined): Float32Array {
  return dim === undefined || dim >= v.length ? v : v.slice(0, dim);
}

/** IEEE half floats (as onnxruntime hands back float16 tensors) → float32. */
export function halfToFloat(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
