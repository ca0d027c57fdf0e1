/**
 * MosaicML Streaming "MDS" format pieces (index.json version 2, joint `.mds` shards), as
 * written by `streaming.MDSWriter(columns={'input_ids': 'ndarray:int32'})` with no
 * compression and no hashes. Byte layout follows Streaming's source
 * (streaming/base/format/mds/writer.py, mds/encodings.py, base/writer.py):
 *
 *   shard file = [num_samples: u32] [offsets: (num_samples + 1) × u32] [config JSON] [samples]
 *     offsets are absolute file positions of each sample's start, plus the end of the last.
 *   sample     = [u32 byte size of each variable-size column] [column data…]
 *   `ndarray:int32` (dtype fixed, shape not) is variable-size (column_sizes null):
 *     [byte (ndim << 2) | shape dtype code] [shape: ndim × shape dtype] [values: int32…]
 *     shape dtype = smallest of uint8/16/32/64 (codes 0..3) holding the largest dimension.
 *   All integers little-endian (numpy native order on every supported host).
 *   JSON = Python `json.dumps(obj, sort_keys=True)`: ", " and ": " separators, ASCII only.
 */

export const MDS_COLUMN = 'input_ids';
export const MDS_ENCODING = 'ndarray:int32';
/** Streaming's default `size_limit` (64 MiB). */
export const MDS_DEFAULT_SIZE_LIMIT = 1 << 26;
/** Offsets are u32, so no shard may reach 4 GiB. */
export const MDS_MAX_SHARD_BYTES = 0xffffffff;
export const MDS_INDEX_BASENAME = 'index.json';

export interface MdsFileInfo {
  basename: string;
  bytes: number;
  hashes: Record<string, string>;
}

/** One entry of index.json `shards` (exactly the keys MDSReader.from_json accepts). */
export interface MdsShardInfo {
  column_encodings: string[];
  column_names: string[];
  column_sizes: (number | null)[];
  compression: string | null;
  format: 'mds';
  hashes: string[];
  raw_data: MdsFileInfo;
  samples: number;
  size_limit: number | null;
  version: 2;
  zip_data: MdsFileInfo | null;
}

export interface MdsIndex {
  shards: MdsShardInfo[];
  version: 2;
}

/** MDSWriter.get_config(): the per-shard settings, also embedded in every shard file. */
export interface MdsConfig {
  column_encodings: string[];
  column_names: string[];
  column_sizes: (number | null)[];
  compression: null;
  format: 'mds';
  hashes: string[];
  size_limit: number;
  version: 2;
}

export function mdsConfig(sizeLimit: number): MdsConfig {
  return {
    column_encodings: [MDS_ENCODING],
    column_names: [MDS_COLUMN],
    column_sizes: [null],
    compression: null,
    format: 'mds',
    hashes: [],
    size_limit: sizeLimit,
    version: 2,
  };
}

/** `shard.00000.mds` (Python `f'{shard:05}'`: at least five digits). */
export function mdsShardBasename(shard: number): string {
  return `shard.${String(shard).padStart(5, '0')}.mds`;
}

/**
 * Python `json.dumps(value, sort_keys=True)` for JSON-like values (null, booleans, integers,
 * strings, arrays, plain objects). Non-integer numbers are refused: their Python repr differs
 * from JavaScript's and the format needs none.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`pyJsonDumps: only safe integers are supported, got ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return pyJsonString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort(comparePy);
    const obj = value as Record<string, unknown>;
    return `{${keys.map((k) => `${pyJsonString(k)}: ${pyJsonDumps(obj[k])}`).join(', ')}}`;
  }
  throw new Error(`pyJsonDumps: unsupported value of type ${typeof value}`);
}

/** Python compares str by code point; JS sort by UTF-16 unit differs only above the BMP. */
function comparePy(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** JSON.stringify escapes ", \ and C0 controls like Python; ensure_ascii also escapes 0x7F+. */
function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Shape dtype code (0 uint8, 1 uint16, 2 uint32, 3 uint64) for the largest dimension. */
export function shapeDtypeCode(maxDim: number): number {
  if (maxDim < 1 << 8) return 0;
  if (maxDim < 1 << 16) return 1;
  if (maxDim < 2 ** 32) return 2;
  return 3;
}

/** Bytes of one encoded `input_ids` sample of `n` tokens (size prefix included). */
export function mdsSampleBytes(n: number): number {
  return 4 + 1 + (1 << shapeDtypeCode(n)) + 4 * n;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes one sample (`{input_ids: int32[n]}`) into `out` at `at`; returns the bytes written
 * (= mdsSampleBytes(n)). Ids must be integers in [0, 2³¹ − 1] and `n` ≥ 1 (Streaming refuses
 * empty arrays).
 */
export function encodeMdsSample(ids: Uint32Array | Int32Array, out: Uint8Array, at: number): number {
  const n = ids.length;
  if (n === 0) throw new Error('MDS ndarray column cannot hold an empty array');
  for (let i = 0; i < n; i++) {
    const v = ids[i];
    if (v < 0 || v > 0x7fffffff) throw new Error(`token id ${v} at ${i} does not fit int32 as a non-negative id`);
  }
  const code = shapeDtypeCode(n);
  const shapeBytes = 1 << code;
  const datum = 1 + shapeBytes + 4 * n;
  const total = 4 + datum;
  if (at + total > out.length) throw new RangeError('encodeMdsSample: output buffer too small');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = at;
  dv.setUint32(p, datum, true); // variable-size column: its byte size
  p += 4;
  dv.setUint8(p, (1 << 2) | code); // ndim = 1
  p += 1;
  if (code === 0) dv.setUint8(p, n);
  else if (code === 1) dv.setUint16(p, n, true);
  else if (code === 2) dv.setUint32(p, n, true);
  else dv.setBigUint64(p, BigInt(n), true);
  p += shapeBytes;
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(ids.buffer, ids.byteOffset, 4 * n), p);
  } else {
    for (let i = 0; i < n; i++) dv.setInt32(p + 4 * i, ids[i], true);
  }
  return total;
}
