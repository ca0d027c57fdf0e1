import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { zstdDecompressStream } from './zstd-stream.js';

/**
 * One raw line: its 1-based line number in the file and its bytes (without '\n'). A line
 * longer than readLines' byte limit is not kept: it comes as a marker with empty `bytes` and
 * `overLimit` set to the line's full length in bytes.
 */
export interface RawLine {
  line: number;
  bytes: Buffer;
  overLimit?: number;
}

/** Compression by file name: `.gz`, `.zst`/`.zstd`, or none. */
export function compressionOf(name: string): 'gzip' | 'zstd' | 'none' {
  if (/\.gz$/i.test(name)) return 'gzip';
  if (/\.zstd?$/i.test(name)) return 'zstd';
  return 'none';
}

/** A decompressed byte stream of a local file, optionally from a byte offset (uncompressed only). */
export function openLocal(file: string, start = 0, end?: number): Readable {
  const kind = compressionOf(file);
  if (kind !== 'none') {
    if (start !== 0 || end !== undefined) throw new Error(`${file}: compressed files cannot be read from an offset`);
    const raw = createReadStream(file);
    if (kind === 'zstd') return zstdDecompressStream(raw);
    const dec = createGunzip();
    raw.on('error', (e) => dec.destroy(e));
    return raw.pipe(dec);
  }
  return createReadStream(file, { start, end: end === undefined ? undefined : end - 1 });
}

/** Lines per batch at most: a chunk of a million empty lines (a decompression bomb) is not a million objects at once. */
const MAX_BATCH = 1024;

/** readLineBatches one line at a time. */
export async function* readLines(stream: AsyncIterable<Buffer>, firstLine = 1, maxBytes = Infinity): AsyncGenerator<RawLine> {
  for await (const batch of readLineBatches(stream, firstLine, maxBytes)) yield* batch;
}

/**
 * Splits a byte stream into lines on raw '\n' bytes: decoding happens per line, so invalid
 * UTF-8 is caught (and attributed to its line) instead of being silently replaced. The lines
 * that end in one input chunk come as one batch (one await per chunk, not per line); a batch
 * never asks the stream for more bytes than its lines need.
 *
 * Memory is bounded by `maxBytes`: once a line grows past it, its bytes are dropped and the
 * rest of the line is skipped up to the next '\n' (a decompression bomb that expands to one
 * line of gigabytes costs a scan, never the gigabytes); the line is then yielded as a marker
 * (`overLimit`). An over-long line of only blanks is yielded as an empty line instead, so
 * readers count records exactly as planning does (a line with a non-blank byte is a record).
 *
 * With `release`, each input chunk is passed to it once the consumer has asked past its last
 * batch (a line running on into the next chunk is copied first): a consumer that is done with a
 * batch's bytes when it asks for the next lets the stream reuse the chunk (recycleOutput).
 */
export async function* readLineBatches(
  stream: AsyncIterable<Buffer>,
  firstLine = 1,
  maxBytes = Infinity,
  release?: (chunk: Buffer) => void,
): AsyncGenerator<RawLine[]> {
  let line = firstLine;
  let carry: Buffer[] = [];
  let carried = 0;
  // while skipping an over-long line: its length so far, and whether it has a non-blank byte
  let skipped = -1;
  let content = false;
  const marker = (): RawLine => ({ line: line++, bytes: Buffer.alloc(0), ...(content ? { overLimit: skipped } : {}) });
  for await (const chunk of stream) {
    let batch: RawLine[] = [];
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(10, from);
      const end = nl === -1 ? chunk.length : nl;
      if (skipped >= 0) {
        skipped += end - from;
        content ||= hasContent(chunk, from, end);
      } else if (carried + (end - from) > maxBytes) {
        // the line just went over the limit: drop what was kept, remember whether it had content
        content = carry.some((b) => hasContent(b, 0, b.length)) || hasContent(chunk, from, end);
        skipped = carried + (end - from);
        carry = [];
        carried = 0;
      } else if (nl !== -1) {
        const piece = chunk.subarray(from, nl);
        const bytes = carry.length ? Buffer.concat([...carry, piece]) : piece;
        carry = [];
        carried = 0;
        batch.push({ line: line++, bytes: stripCr(bytes) });
      } else {
        carry.push(release ? Buffer.from(chunk.subarray(from)) : chunk.subarray(from));
        carried += chunk.length - from;
      }
      if (nl === -1) break;
      if (skipped >= 0) {
        batch.push(marker());
        skipped = -1;
        content = false;
      }
      from = nl + 1;
      if (batch.length === MAX_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
    release?.(chunk);
  }
  if (skipped >= 0) yield [marker()];
  else if (carry.length) yield [{ line, bytes: stripCr(Buffer.concat(carry)) }];
}

// JSONL written on Windows ends lines with "\r\n"; the '\r' is not part of the record
function stripCr(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 13 ? b.subarray(0, b.length - 1) : b;
}

/** Whether bytes [from, to) hold anything but blanks (space, tab, '\r'), as planning counts records. */
export function hasContent(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c !== 32 && c !== 9 && c !== 13) return true;
  }
  return false;
}
