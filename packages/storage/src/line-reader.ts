import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';

/** One raw line: its 1-based line number in the file and its bytes (without '\n'). */
export interface RawLine {
  line: number;
  bytes: Buffer;
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
    const dec = kind === 'gzip' ? createGunzip() : new DecompressStream();
    raw.on('error', (e) => dec.destroy(e));
    return raw.pipe(dec);
  }
  return createReadStream(file, { start, end: end === undefined ? undefined : end - 1 });
}

/**
 * Splits a byte stream into lines on raw '\n' bytes: decoding happens per line, so invalid
 * UTF-8 is caught (and attributed to its line) instead of being silently replaced.
 */
export async function* readLines(stream: AsyncIterable<Buffer>, firstLine = 1): AsyncGenerator<RawLine> {
  let line = firstLine;
  let carry: Buffer[] = [];
  for await (const chunk of stream) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl === -1) break;
      const piece = chunk.subarray(from, nl);
      const bytes = carry.length ? Buffer.concat([...carry, piece]) : piece;
      carry = [];
      yield { line: line++, bytes: stripCr(bytes) };
      from = nl + 1;
    }
    if (from < chunk.length) carry.push(chunk.subarray(from));
  }
  if (carry.length) yield { line, bytes: stripCr(Buffer.concat(carry)) };
}

// JSONL written on Windows ends lines with "\r\n"; the '\r' is not part of the record
function stripCr(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 13 ? b.subarray(0, b.length - 1) : b;
}
