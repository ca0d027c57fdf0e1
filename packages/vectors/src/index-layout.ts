import type { ObjectStore } from '@nextlong/core';
import { VECTORS_FILE_NAMES, VECTOR_TYPES, type VectorType } from './vector-types.js';

/**
 * On-disk layout of a built segments index, all under `index/` of the run's store:
 *
 *   index/hnsw.usearch   usearch HNSW graph (metric cos) of the one partition, labels = keys
 *   index/hnsw-<p>.usearch  or, for a pool of several partitions, one graph per partition p
 *   index/vectors.f32    float32 n × dim, row = key (exact re-scoring); vectors.f16 / vectors.i8
 *                        with `vectorType` f16 / i8 (vector-types.ts)
 *   index/chunks.bin     chunk table, row = key (see encodeChunkTable)
 *   index/docs.jsonl     doc ids, one JSON string per line, line = doc ordinal
 *   index/texts.bin      chunk texts, UTF-8, concatenated in key order
 *   index/index.json     descriptor, written last: its presence means the index is complete
 *
 * Keys 0..n-1 are split into contiguous partitions (index-partitions.ts); each graph holds the
 * global keys of its range, so its search results need no mapping.
 */

export const INDEX_DESCRIPTOR_KEY = 'index/index.json';
export const INDEX_DIR = 'index/';
/** The files beside the graphs, by role (the vectors file of an f32 index: see vectorsFileName). */
export const INDEX_FILE_NAMES = {
  vectors: 'vectors.f32',
  chunks: 'chunks.bin',
  docs: 'docs.jsonl',
  texts: 'texts.bin',
} as const;
export type IndexFileRole = keyof typeof INDEX_FILE_NAMES;
export const INDEX_FILE_ROLES = Object.keys(INDEX_FILE_NAMES) as IndexFileRole[];
/**
 * Version 3: `vectorType` f16 or i8 (a reader that predates it refuses the index instead of reading
 * the vectors as f32). Version 2: graphs listed in `partitions`, vectors f32 — what an f32 index is
 * still written as, byte for byte. Version 1 (one graph in `files.hnsw`) still opens.
 */
export const INDEX_VERSION = 3;
/** The version an f32 index is written with. */
export const INDEX_VERSION_F32 = 2;

/** Name of the vectors file of an index of `type`. */
export function vectorsFileName(type: VectorType): string {
  return VECTORS_FILE_NAMES[type];
}

/** The descriptor's stored vector type (absent: f32, versions 1 and 2). */
export function vectorTypeOf(desc: IndexDescriptor): VectorType {
  return desc.vectorType ?? 'f32';
}

export interface IndexFileInfo {
  name: string;
  bytes: number;
  sha256: string;
}

export interface HnswParams {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

/** One graph: keys first..first+count-1. */
export interface IndexPartition {
  first: number;
  count: number;
  file: IndexFileInfo;
}

export interface IndexDescriptor {
  format: 'nextlong-segments-index';
  version: typeof INDEX_VERSION_F32 | typeof INDEX_VERSION;
  metric: 'cos';
  dim: number;
  /** Version 3 only: the stored type of the vectors file and the graphs (absent: f32). */
  vectorType?: Exclude<VectorType, 'f32'>;
  chunks: number;
  docs: number;
  segments: number;
  params: HnswParams;
  files: Record<IndexFileRole, IndexFileInfo>;
  partitions: IndexPartition[];
}

/** Graph file name of partition `p` of `count`; a single graph keeps version 1's name. */
export function partitionFileName(p: number, count: number): string {
  return count === 1 ? 'hnsw.usearch' : `hnsw-${p}.usearch`;
}

/**
 * Reads and checks `index/index.json`; a missing one means the index was never (fully) built.
 * A version 1 descriptor (one graph) is returned in version 2's shape.
 */
export async function readDescriptor(store: ObjectStore, signal?: AbortSignal): Promise<{ desc: IndexDescriptor; raw: Uint8Array }> {
  const where = `${store.root}/${INDEX_DESCRIPTOR_KEY}`;
  if (!(await store.exists(INDEX_DESCRIPTOR_KEY, signal))) {
    throw new Error(`vector index not found: ${where} does not exist; run the embed and index stages first`);
  }
  const raw = await store.get(INDEX_DESCRIPTOR_KEY, signal);
  let desc: IndexDescriptor;
  try {
    desc = JSON.parse(new TextDecoder().decode(raw)) as IndexDescriptor;
  } catch (err) {
    throw new Error(`vector index descriptor ${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (desc?.format === 'nextlong-segments-index' && (desc.version as number) === 1) desc = fromVersion1(desc);
  if (desc?.format !== 'nextlong-segments-index' || (desc.version !== INDEX_VERSION_F32 && desc.version !== INDEX_VERSION)) {
    throw new Error(
      `vector index descriptor ${where}: unsupported format/version (${desc?.format} v${desc?.version}; this build reads v1 to v${INDEX_VERSION}): rebuild the index`,
    );
  }
  // v2 is f32 by definition; v3 names a type that is not f32.
  const typed = desc.version === INDEX_VERSION;
  if (typed ? !VECTOR_TYPES.includes(desc.vectorType as VectorType) || desc.vectorType === ('f32' as string) : desc.vectorType !== undefined) {
    throw new Error(`vector index descriptor ${where}: bad vectorType ${JSON.stringify(desc.vectorType)} for version ${desc.version}`);
  }
  const goodFile = (f: IndexFileInfo | undefined) => f && typeof f.name === 'string' && !f.name.includes('/') && Number.isSafeInteger(f.bytes);
  for (const role of INDEX_FILE_ROLES) {
    if (!goodFile(desc.files?.[role])) throw new Error(`vector index descriptor ${where}: bad entry for the ${role} file`);
  }
  // Partitions must tile 0..chunks-1 in order: a search maps every key to exactly one graph.
  let next = 0;
  for (const [i, p] of (Array.isArray(desc.partitions) ? desc.partitions : [undefined]).entries()) {
    if (!p || p.first !== next || !Number.isSafeInteger(p.count) || p.count < 0 || !goodFile(p.file)) {
      throw new Error(`vector index descriptor ${where}: bad entry for partition ${i}`);
    }
    next += p.count;
  }
  if (next !== desc.chunks) throw new Error(`vector index descriptor ${where}: partitions hold ${next} chunks, the descriptor says ${desc.chunks}`);
  return { desc, raw };
}

function fromVersion1(v1: IndexDescriptor): IndexDescriptor {
  const { hnsw, ...files } = v1.files as IndexDescriptor['files'] & { hnsw?: IndexFileInfo };
  return { ...v1, version: INDEX_VERSION_F32, files, partitions: [{ first: 0, count: v1.chunks, file: hnsw! }] };
}

/** Chunk table columns; row = usearch key. */
export interface ChunkTable {
  count: number;
  hashes: Float64Array; // textHash, 53-bit integers
  textOffsets: Float64Array; // byte offset in texts.bin (f64: the text file may pass 4 GiB)
  docOrds: Uint32Array; // line of docs.jsonl
  chunks: Uint32Array; // chunk number in its document
  textLengths: Uint32Array; // UTF-8 byte length
}

/**
 * Copies `len` bytes at `pos` into a fresh ArrayBuffer: typed-array columns need alignment the
 * input may lack, and a Buffer's slice() would share (not copy) its pool.
 */
export function copyBytes(bytes: Uint8Array, pos: number, len: number): ArrayBuffer {
  const out = new Uint8Array(len);
  out.set(bytes.subarray(pos, pos + len));
  return out.buffer;
}

const TABLE_MAGIC = 0x54434c4e; // "NLCT" little-endian
const TABLE_VERSION = 1;
const TABLE_HEADER = 16; // magic, version, count, reserved: keeps the f64 columns aligned
const ROW_BYTES = 8 + 8 + 4 + 4 + 4;

export function encodeChunkTable(t: ChunkTable): Uint8Array {
  const n = t.count;
  const out = new Uint8Array(TABLE_HEADER + n * ROW_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, TABLE_MAGIC, true);
  view.setUint32(4, TABLE_VERSION, true);
  view.setUint32(8, n, true);
  let pos = TABLE_HEADER;
  for (const col of [t.hashes, t.textOffsets, t.docOrds, t.chunks, t.textLengths]) {
    const bytes = new Uint8Array(col.buffer, col.byteOffset, n * col.BYTES_PER_ELEMENT);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

export function decodeChunkTable(bytes: Uint8Array, where: string): ChunkTable {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < TABLE_HEADER || view.getUint32(0, true) !== TABLE_MAGIC) throw new Error(`chunk table ${where}: bad magic`);
  if (view.getUint32(4, true) !== TABLE_VERSION) throw new Error(`chunk table ${where}: unsupported version`);
  const n = view.getUint32(8, true);
  if (bytes.byteLength !== TABLE_HEADER + n * ROW_BYTES) throw new Error(`chunk table ${where}: size does not match ${n} rows`);
  let pos = TABLE_HEADER;
  const column = (width: number) => {
    const b = copyBytes(bytes, pos, n * width);
    pos += n * width;
    return b;
  };
  return {
    count: n,
    hashes: new Float64Array(column(8)),
    textOffsets: new Float64Array(column(8)),
    docOrds: new Uint32Array(column(4)),
    chunks: new Uint32Array(column(4)),
    textLengths: new Uint32Array(column(4)),
  };
}

/** Growable chunk table for the build (the row count is known only after the last segment). */
export class ChunkTableBuilder {
  count = 0;
  private cap = 1024;
  private cols = this.alloc(this.cap);

  private alloc(cap: number) {
    return {
      hashes: new Float64Array(cap),
      textOffsets: new Float64Array(cap),
      docOrds: new Uint32Array(cap),
      chunks: new Uint32Array(cap),
      textLengths: new Uint32Array(cap),
    };
  }

  push(hash: number, textOffset: number, docOrd: number, chunk: number, textLength: number): void {
    if (this.count === this.cap) {
      const next = this.alloc(this.cap * 2);
      next.hashes.set(this.cols.hashes);
      next.textOffsets.set(this.cols.textOffsets);
      next.docOrds.set(this.cols.docOrds);
      next.chunks.set(this.cols.chunks);
      next.textLengths.set(this.cols.textLengths);
      this.cols = next;
      this.cap *= 2;
    }
    const i = this.count++;
    this.cols.hashes[i] = hash;
    this.cols.textOffsets[i] = textOffset;
    this.cols.docOrds[i] = docOrd;
    this.cols.chunks[i] = chunk;
    this.cols.textLengths[i] = textLength;
  }

  table(): ChunkTable {
    return { count: this.count, ...this.cols };
  }
}
