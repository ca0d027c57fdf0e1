import { closeSync, fstatSync, openSync } from 'node:fs';
import { preadFully } from './local-files.js';
import { ROW_KERNELS, type RowKernel, type ScoredRows } from './scoring.js';
import { VECTOR_BYTES, storedArray, type StoredRows, type VectorType } from './vector-types.js';

/** Bytes read at once by a full scan (brute-force search). */
const SCAN_BLOCK_BYTES = 1 << 20;

/**
 * Vector files up to this size are read into memory once (`NEXTLONG_VECTORS_IN_MEMORY_MB`,
 * default 64): a positional read per re-scored candidate costs about 2.4× the CPU of a memory
 * read, so small pools keep the fast path while a searcher's private memory stays bounded by
 * this constant, not by the pool.
 */
export function vectorsInMemoryBytes(): number {
  const mb = Number(process.env.NEXTLONG_VECTORS_IN_MEMORY_MB ?? 64);
  return Number.isFinite(mb) && mb >= 0 ? mb * (1 << 20) : 64 << 20;
}

/**
 * The index's stored vectors (vector-types.ts), read from the vectors file by positional reads
 * instead of held in the heap: a searcher's private memory stays flat as the pool grows, and the
 * pages it reads sit in the OS page cache, shared by every process on the host. (mmap-io 1.1.7,
 * the memory-map addon, does not compile against Node 20's headers.) Reads are synchronous: they
 * serve one time slice of a search (time-slices.ts) and hit the page cache after the first touch.
 */
export class VectorRows implements ScoredRows {
  private readonly row: StoredRows;
  private readonly kernel: RowKernel;
  private readonly rowBytes: number;
  private block: StoredRows | undefined;
  private fd: number | undefined;
  /** The whole file, when it is small enough (see vectorsInMemoryBytes). */
  private whole: StoredRows | undefined;

  private constructor(
    fd: number,
    readonly dim: number,
    readonly count: number,
    readonly type: VectorType,
  ) {
    this.fd = fd;
    this.row = storedArray(type, dim);
    this.kernel = ROW_KERNELS[type];
    this.rowBytes = dim * VECTOR_BYTES[type];
  }

  /**
   * Opens `file`, which must hold exactly `count` × `dim` values of `type` (`where` names it in
   * errors); a file of at most `inMemoryBytes` is read into memory at once.
   */
  static open(file: string, dim: number, count: number, where: string, inMemoryBytes = vectorsInMemoryBytes(), type: VectorType = 'f32'): VectorRows {
    const fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const width = VECTOR_BYTES[type];
    if (size !== count * dim * width) {
      closeSync(fd);
      throw new Error(`${where}: ${size / width} ${type} values, expected ${count} × ${dim}`);
    }
    const rows = new VectorRows(fd, dim, count, type);
    if (size <= inMemoryBytes) {
      const whole = storedArray(type, count * dim);
      rows.read(whole, 0, count);
      rows.whole = whole;
    }
    return rows;
  }

  /** Whether the vectors are held in memory (small files) rather than read on demand. */
  get inMemory(): boolean {
    return this.whole !== undefined;
  }

  score(key: number, q: Float32Array): number {
    if (this.whole) return this.kernel.at(this.whole, key * this.dim, q);
    this.read(this.row, key, 1);
    return this.kernel.at(this.row, 0, q);
  }

  scoreKeys(q: Float32Array, keys: Uint32Array, n: number, out: Float64Array): void {
    if (this.whole) this.kernel.rows(this.whole, this.dim, q, keys, n, out);
    else for (let i = 0; i < n; i++) out[i] = this.score(keys[i], q);
  }

  scan(q: Float32Array, visit: (key: number, score: number) => void): void {
    const { kernel } = this;
    if (this.whole) {
      for (let k = 0; k < this.count; k++) visit(k, kernel.at(this.whole, k * this.dim, q));
      return;
    }
    const perBlock = Math.max(1, Math.floor(SCAN_BLOCK_BYTES / this.rowBytes));
    const block = (this.block ??= storedArray(this.type, perBlock * this.dim));
    for (let first = 0; first < this.count; first += perBlock) {
      const rows = Math.min(perBlock, this.count - first);
      this.read(block, first, rows);
      for (let r = 0; r < rows; r++) visit(first + r, kernel.at(block, r * this.dim, q));
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.whole = undefined;
  }

  /** Reads rows first..first+rows-1 into the start of `into`. */
  private read(into: StoredRows, first: number, rows: number): void {
    if (this.fd === undefined) throw new Error('the vector index is closed');
    preadFully(this.fd, new Uint8Array(into.buffer, into.byteOffset, rows * this.rowBytes), first * this.rowBytes, `vectors rows ${first}..${first + rows - 1}`);
  }
}
