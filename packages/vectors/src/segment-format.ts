import type { ChunkPoint, ObjectStore } from '@nextlong/core';
import { copyBytes } from './index-layout.js';

/**
 * Binary segment written by one embed shard: the shard's chunk points, read back by the
 * index build. Little-endian (every platform we run on), layout:
 *
 *   0  magic "NLSG"          4  version u32        8  dim u32        12 count u32
 *   16 hashes f64[count]     (first, so the f64 column is 8-byte aligned)
 *   .. vectors f32[count*dim]
 *   .. chunk numbers u32[count]
 *   .. per point: docId (u32 byte length + UTF-8), text (u32 byte length + UTF-8)
 *
 * The byte length must end exactly after the last string, so truncation is detected.
 */

export const SEGMENTS_PREFIX = 'index/segments/';
export const SEGMENT_SUFFIX = '.seg';
const MAGIC = 0x47534c4e; // "NLSG" read as little-endian u32
const VERSION = 1;
const HEADER_BYTES = 16;

export function segmentKey(shardId: string): string {
  // Shard ids become object keys: no empty or dot path parts (they could escape the prefix).
  const bad = !shardId || shardId.split('/').some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw new Error(`invalid shard id for a segment: ${JSON.stringify(shardId)}`);
  return `${SEGMENTS_PREFIX}${shardId}${SEGMENT_SUFFIX}`;
}

/** A decoded segment: columns, so the build can hand vectors to usearch without copying per point. */
export interface Segment {
  dim: number;
  count: number;
  vectors: Float32Array; // count × dim
  chunks: Uint32Array;
  hashes: Float64Array;
  docIds: string[];
  /** UTF-8 texts, kept as bytes: the build streams them to the text file without re-encoding. */
  texts: Uint8Array[];
}

export function encodeSegment(points: readonly ChunkPoint[], dim: number): Uint8Array {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`segment dim must be a positive integer, got ${dim}`);
  const enc = new TextEncoder();
  const ids = points.map((p) => enc.encode(p.docId));
  const texts = points.map((p) => enc.encode(p.text));
  const n = points.length;
  let strBytes = 0;
  for (let i = 0; i < n; i++) strBytes += 8 + ids[i].length + texts[i].length;
  const out = new Uint8Array(HEADER_BYTES + n * 8 + n * dim * 4 + n * 4 + strBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, dim, true);
  view.setUint32(12, n, true);
  let pos = HEADER_BYTES;
  for (const p of points) {
    if (!Number.isSafeInteger(p.hash)) throw new Error(`chunk ${p.docId}#${p.chunk}: hash must be a safe integer`);
    view.setFloat64(pos, p.hash, true);
    pos += 8;
  }
  for (const p of points) {
    if (p.vector.length !== dim) throw new Error(`chunk ${p.docId}#${p.chunk}: vector has ${p.vector.length} dims, expected ${dim}`);
    out.set(new Uint8Array(p.vector.buffer, p.vector.byteOffset, dim * 4), pos);
    pos += dim * 4;
  }
  for (const p of points) {
    if (!Number.isInteger(p.chunk) || p.chunk < 0 || p.chunk > 0xffffffff) throw new Error(`chunk ${p.docId}#${p.chunk}: bad chunk number`);
    view.setUint32(pos, p.chunk, true);
    pos += 4;
  }
  for (let i = 0; i < n; i++) {
    for (const s of [ids[i], texts[i]]) {
      view.setUint32(pos, s.length, true);
      out.set(s, pos + 4);
      pos += 4 + s.length;
    }
  }
  return out;
}

export function decodeSegment(bytes: Uint8Array, keyForErrors: string): Segment {
  const fail = (why: string): never => {
    throw new Error(`segment ${keyForErrors}: ${why}`);
  };
  if (bytes.byteLength < HEADER_BYTES) fail(`too short (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('not a segment file (bad magic)');
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`unsupported version ${version} (expected ${VERSION})`);
  const dim = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  if (dim === 0) fail('dim is 0');
  const fixed = HEADER_BYTES + count * 8 + count * dim * 4 + count * 4 + count * 8;
  if (fixed > bytes.byteLength) fail(`truncated: ${count} points of dim ${dim} need at least ${fixed} bytes, have ${bytes.byteLength}`);
  let pos = HEADER_BYTES;
  const column = (len: number) => {
    const b = copyBytes(bytes, pos, len);
    pos += len;
    return b;
  };
  const hashes = new Float64Array(column(count * 8));
  const vectors = new Float32Array(column(count * dim * 4));
  const chunks = new Uint32Array(column(count * 4));
  const dec = new TextDecoder('utf-8', { fatal: true });
  const docIds: string[] = new Array(count);
  const texts: Uint8Array[] = new Array(count);
  const next = (what: string, i: number): Uint8Array => {
    if (pos + 4 > bytes.byteLength) fail(`truncated at the ${what} of point ${i}`);
    const len = view.getUint32(pos, true);
    if (pos + 4 + len > bytes.byteLength) fail(`truncated in the ${what} of point ${i}`);
    const s = bytes.subarray(pos + 4, pos + 4 + len);
    pos += 4 + len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    try {
      docIds[i] = dec.decode(next('doc id', i));
    } catch (err) {
      if ((err as Error).message.startsWith('segment ')) throw err;
      fail(`doc id of point ${i} is not valid UTF-8`);
    }
    texts[i] = next('text', i);
  }
  if (pos !== bytes.byteLength) fail(`${bytes.byteLength - pos} unexpected trailing bytes`);
  return { dim, count, vectors, chunks, hashes, docIds, texts };
}

/** The points of a decoded segment (for tests and tools; the build reads the columns). */
export function segmentPoints(seg: Segment): ChunkPoint[] {
  const dec = new TextDecoder();
  return seg.docIds.map((docId, i) => ({
    docId,
    chunk: seg.chunks[i],
    text: dec.decode(seg.texts[i]),
    hash: seg.hashes[i],
    vector: seg.vectors.slice(i * seg.dim, (i + 1) * seg.dim),
  }));
}

/** Writes shard `shardId`'s segment; a retried shard overwrites its own segment (idempotent). */
export async function writeSegment(
  store: ObjectStore,
  shardId: string,
  points: readonly ChunkPoint[],
  dim: number,
  signal?: AbortSignal,
): Promise<string> {
  const key = segmentKey(shardId);
  await store.put(key, encodeSegment(points, dim), signal);
  return key;
}
