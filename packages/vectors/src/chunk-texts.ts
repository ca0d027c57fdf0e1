import { closeSync, openSync } from 'node:fs';
import type { ChunkTable } from './index-layout.js';
import { preadFully } from './local-files.js';

/**
 * Bytes of decoded chunk texts kept (UTF-8 size). Negatives repeat across a run's sequences
 * (a small pool places each chunk many times), and a kept string is also the same string object
 * each time, whose hash V8 has cached for the tokenizer's piece lookups. Bounded, so memory does
 * not grow with the pool; a pool far larger than this rarely repeats a chunk anyway.
 */
export const TEXT_CACHE_BYTES = 16 << 20;

/**
 * Chunk texts by key from the index's texts file. Reads are synchronous positional reads of a
 * local file (the index is downloaded before it is opened): a few microseconds each from the
 * page cache, where an fs promise costs several times that per chunk in this thread's time.
 */
export class ChunkTexts {
  /** key → text, least recently used first. */
  private readonly kept = new Map<number, string>();
  private keptBytes = 0;
  private buf = Buffer.allocUnsafe(1 << 16);
  private fd: number | undefined;

  constructor(
    file: string,
    private readonly table: Pick<ChunkTable, 'textOffsets' | 'textLengths'>,
    private readonly maxBytes = TEXT_CACHE_BYTES,
  ) {
    this.fd = openSync(file, 'r');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.kept.clear();
  }

  get(key: number): string {
    const hit = this.kept.get(key);
    if (hit !== undefined) {
      this.kept.delete(key);
      this.kept.set(key, hit);
      return hit;
    }
    const len = this.table.textLengths[key]!;
    const text = this.read(key, len);
    if (len <= this.maxBytes) {
      this.kept.set(key, text);
      this.keptBytes += len;
      for (const k of this.kept.keys()) {
        if (this.keptBytes <= this.maxBytes) break;
        this.kept.delete(k);
        this.keptBytes -= this.table.textLengths[k]!;
      }
    }
    return text;
  }

  private read(key: number, len: number): string {
    if (this.fd === undefined) throw new Error('the vector index is closed');
    if (this.buf.length < len) this.buf = Buffer.allocUnsafe(Math.max(len, this.buf.length * 2));
    preadFully(this.fd, this.buf.subarray(0, len), this.table.textOffsets[key]!, `texts of chunk ${key}`);
    return this.buf.toString('utf8', 0, len);
  }
}
