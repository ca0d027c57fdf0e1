/**
 * Stored vector types of the segments index (config `vectorType`). Every conversion is done here,
 * in JavaScript, with integer and IEEE arithmetic only, so the same float32 rows always give the
 * same stored bytes on every machine:
 *
 *   f32  the embedder's float32 rows as they are (4 bytes a value)
 *   f16  IEEE half precision, rounded to nearest even (2 bytes a value)
 *   i8   each row scaled so its largest |value| is 127, rounded to integers (1 byte a value). The
 *        scale is not stored: scores of i8 rows are cosines (scoring.ts), which do not depend on
 *        it, and usearch's i8 cosine graph does not either.
 */

export type VectorType = 'f32' | 'f16' | 'i8';
export const VECTOR_TYPES: readonly VectorType[] = ['f32', 'f16', 'i8'];

/** Rows as stored: float32, half-float bit patterns, or int8. */
export type StoredRows = Float32Array | Uint16Array | Int8Array;

export const VECTOR_BYTES: Record<VectorType, number> = { f32: 4, f16: 2, i8: 1 };

/** usearch's ScalarKind (a key of its enum) of a graph over stored vectors of each type. */
export const SCALAR_KINDS = { f32: 'F32', f16: 'F16', i8: 'I8' } as const satisfies Record<VectorType, string>;

/** The vectors file of each type (f32 keeps the name indexes had before types existed). */
export const VECTORS_FILE_NAMES: Record<VectorType, string> = { f32: 'vectors.f32', f16: 'vectors.f16', i8: 'vectors.i8' };

/** An empty array of `type` with `length` values. */
export function storedArray(type: VectorType, length: number): StoredRows {
  return type === 'f32' ? new Float32Array(length) : type === 'f16' ? new Uint16Array(length) : new Int8Array(length);
}

/** A view of `bytes` (aligned for the type) as stored rows of `type`. */
export function storedView(type: VectorType, buffer: ArrayBufferLike, byteOffset: number, length: number): StoredRows {
  if (type === 'f32') return new Float32Array(buffer, byteOffset, length);
  if (type === 'f16') return new Uint16Array(buffer, byteOffset, length);
  return new Int8Array(buffer, byteOffset, length);
}

const f32Box = new Float32Array(1);
const u32Box = new Uint32Array(f32Box.buffer);

/**
 * Half-float bits of `x` (first rounded to float32), rounded to nearest even; overflow gives ±inf.
 * numpy's npy_floatbits_to_halfbits, in JavaScript.
 */
export function toF16Bits(x: number): number {
  f32Box[0] = x;
  const f = u32Box[0];
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  if (exp >= 0x47800000) {
    if (exp !== 0x7f800000 || (f & 0x7fffff) === 0) return sign | 0x7c00; // overflow or inf
    return sign | 0x7e00; // NaN stays NaN
  }
  if (exp <= 0x38000000) {
    // A subnormal half or a signed zero.
    if (exp < 0x33000000) return sign;
    let sig = 0x800000 + (f & 0x7fffff);
    sig >>>= 113 - (exp >>> 23);
    // Ties to even; the shift above may have dropped set bits, which the low bits of f still show.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign | (sig >>> 13);
  }
  let sig = f & 0x7fffff;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  // A carry out of the significand bumps the exponent: the right result (up to inf).
  return sign + ((exp - 0x38000000) >>> 13) + (sig >>> 13);
}

/** The value of half-float bits `h` (every half is exactly a float32). */
export function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const sig = h & 0x3ff;
  if (exp === 0) return sign * sig * 2 ** -24;
  if (exp === 0x1f) return sig ? NaN : sign * Infinity;
  return sign * (1024 + sig) * 2 ** (exp - 25);
}

let f16Table: Float32Array | undefined;

/** Every half-float's value by its bits: dequantizing is one table read. */
export function f16Values(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = fromF16Bits(h);
  }
  return f16Table;
}

/** Rows `vectors` (n × dim float32) stored as `type` (f32: the same array). */
export function quantizeRows(vectors: Float32Array, dim: number, type: VectorType): StoredRows {
  if (type === 'f32') return vectors;
  const n = vectors.length;
  if (type === 'f16') {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = toF16Bits(vectors[i]);
    return out;
  }
  const out = new Int8Array(n);
  for (let base = 0; base < n; base += dim) {
    let max = 0;
    for (let j = base; j < base + dim; j++) max = Math.max(max, Math.abs(vectors[j]));
    if (!(max > 0) || !Number.isFinite(max)) continue; // a zero (or broken) row stays all zeros
    const scale = 127 / max;
    for (let j = base; j < base + dim; j++) out[j] = Math.max(-127, Math.min(127, Math.round(vectors[j] * scale)));
  }
  return out;
}

/**
 * Rows as usearch takes them for a graph of `type`: float32 (f16 rows as their exact float32
 * values, which usearch's f16 cast keeps exactly) or int8 as stored (no cast at all).
 */
export function graphRows(rows: StoredRows, type: VectorType): Float32Array | Int8Array {
  if (type === 'f16') {
    const table = f16Values();
    const bits = rows as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
    return out;
  }
  return rows as Float32Array | Int8Array;
}
