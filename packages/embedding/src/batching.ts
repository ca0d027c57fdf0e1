/**
 * Length-bucketed batching and pooling. Texts are sorted by token count before batching so each
 * batch pads to a similar length (a 2048-char chunk next to a 20-char one would otherwise pay
 * 100× the padding); results go back to the caller's order.
 */
import type { EncodedText } from './input-encoders.js';

/** Batches of indices into `encoded`, shortest first; ties keep input order (deterministic). */
export function lengthBuckets(encoded: EncodedText[], batchSize: number): number[][] {
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

export interface PaddedBatch {
  rows: number;
  /** Padded length; at least 1, so an all-empty batch still makes valid tensors. */
  cols: number;
  ids: BigInt64Array;
  mask: BigInt64Array;
  typeIds: BigInt64Array;
}

/** Right-pads a batch with id 0 / mask 0 / type 0 into row-major [rows, cols] arrays. */
export function padBatch(items: EncodedText[]): PaddedBatch {
  const rows = items.length;
  const cols = Math.max(1, ...items.map((e) => e.ids.length));
  const ids = new BigInt64Array(rows * cols);
  const mask = new BigInt64Array(rows * cols);
  const typeIds = new BigInt64Array(rows * cols);
  items.forEach((e, r) => {
    const base = r * cols;
    for (let c = 0; c < e.ids.length; c++) {
      ids[base + c] = BigInt(e.ids[c]);
      mask[base + c] = 1n;
      typeIds[base + c] = BigInt(e.typeIds?.[c] ?? 0);
    }
  });
  return { rows, cols, ids, mask, typeIds };
}

/** Scales `v` to unit length in place; a zero vector stays zero (never NaN). */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 1e-12) for (let i = 0; i < v.length; i++) v[i] /= n;
  else v.fill(0);
  return v;
}

/**
 * Attention-masked mean over the sequence axis of `hidden` [rows, cols, dim], one vector per
 * row: padding positions never contribute, so a text's vector does not depend on its batch.
 */
export function maskedMeanPool(hidden: Float32Array, batch: PaddedBatch, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  const acc = new Float64Array(dim);
  for (let r = 0; r < batch.rows; r++) {
    acc.fill(0);
    let count = 0;
    for (let c = 0; c < batch.cols; c++) {
      if (batch.mask[r * batch.cols + c] === 0n) continue;
      count++;
      const base = (r * batch.cols + c) * dim;
      for (let d = 0; d < dim; d++) acc[d] += hidden[base + d];
    }
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = count > 0 ? acc[d] / count : 0;
    out.push(v);
  }
  return out;
}

/** Rows of an already pooled [rows, dim] output. */
export function splitRows(data: Float32Array, rows: number, dim: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => data.slice(r * dim, (r + 1) * dim));
}
