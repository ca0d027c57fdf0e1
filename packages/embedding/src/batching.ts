/**
 * Length-bucketed batching and pooling. Texts are sorted by token count before batching so each
 * batch pads to a similar length (a 2048-char chunk next to a 20-char one would otherwise pay
 * 100× the padding); results go back to the caller's order.
 */
import type { EncodedText } from './input-encoders.js';

/** Batches of indices into `encoded`, shortest first; ties keep input order (deterministic). */
export function lengthBuckets(encoded: readonly EncodedText[], batchSize: number): number[][] {
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
  /** Empty when padBatch was told the model has no token_type_ids input. */
  typeIds: BigInt64Array;
  /** Real tokens of each row (the mask is 1 on the first lengths[r] columns of row r). */
  lengths: Int32Array;
}

/** Whether int64 values can be written as their low 32-bit halves (little-endian). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Right-pads a batch with id 0 / mask 0 / type 0 into row-major [rows, cols] arrays. Ids are
 * non-negative int32s, so on little-endian machines each int64 is written as its low half
 * through an Int32Array view of the zero-filled buffer (no BigInt per cell).
 */
export function padBatch(items: EncodedText[], typeIds = true): PaddedBatch {
  const rows = items.length;
  let cols = 1;
  for (const e of items) cols = Math.max(cols, e.ids.length);
  const ids = new BigInt64Array(rows * cols);
  const mask = new BigInt64Array(rows * cols);
  const types = new BigInt64Array(typeIds ? rows * cols : 0);
  const lengths = new Int32Array(rows);
  const ids32 = new Int32Array(ids.buffer);
  const mask32 = new Int32Array(mask.buffer);
  const types32 = new Int32Array(types.buffer);
  for (let r = 0; r < rows; r++) {
    const e = items[r];
    const n = e.ids.length;
    const base = r * cols;
    lengths[r] = n;
    if (LITTLE_ENDIAN) {
      for (let c = 0; c < n; c++) {
        const id = e.ids[c];
        if ((id | 0) !== id || id < 0) throw new RangeError(`token id ${id} is not a non-negative int32`);
        ids32[2 * (base + c)] = id;
        mask32[2 * (base + c)] = 1;
      }
      if (typeIds && e.typeIds) for (let c = 0; c < n; c++) types32[2 * (base + c)] = e.typeIds[c];
    } else {
      for (let c = 0; c < n; c++) {
        ids[base + c] = BigInt(e.ids[c]);
        mask[base + c] = 1n;
        if (typeIds) types[base + c] = BigInt(e.typeIds?.[c] ?? 0);
      }
    }
  }
  return { rows, cols, ids, mask, typeIds: types, lengths };
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
 * Reads the row lengths, not the mask (whose buffer may have been handed to the worker).
 */
export function maskedMeanPool(hidden: Float32Array, batch: Pick<PaddedBatch, 'rows' | 'cols' | 'lengths'>, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  const acc = new Float64Array(dim);
  for (let r = 0; r < batch.rows; r++) {
    acc.fill(0);
    const count = batch.lengths[r];
    for (let c = 0; c < count; c++) {
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
