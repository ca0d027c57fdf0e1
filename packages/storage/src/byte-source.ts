import { open } from 'node:fs/promises';
import { CorruptInputError } from './corrupt-input.js';
import { bucketStore, isS3 } from './input-source.js';

export { CorruptInputError, isCorruptInput } from './corrupt-input.js';

/** Random access to input bytes (local positional reads or S3 ranged GETs). */

// ---------------------------------------------------------------------------------------------
// Byte sources

/** Random access to a file's bytes (hyparquet's AsyncBuffer). `end` is exclusive. */
export interface ByteSource {
  readonly byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
  /** Releases what the source holds (a file descriptor); optional. */
  close?(): Promise<void>;
}

/**
 * A ByteSource over any ranged read, e.g. S3 `GetObject` with `Range: bytes=start-(end-1)`.
 * `read(start, end)` must return exactly `end - start` bytes; a short answer is reported as a
 * truncated file (CorruptInputError); errors it throws pass through unchanged (so a
 * RetryableError stays retryable). `name` is used in error messages.
 */
export function rangeSource(
  byteLength: number,
  read: (start: number, end: number) => Promise<Uint8Array>,
  name = 'source',
  close?: () => Promise<void>,
): ByteSource {
  return {
    byteLength,
    async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
      if (!(start >= 0 && end >= start && end <= byteLength)) {
        throw new CorruptInputError(
          name,
          'corrupt_file',
          `${name}: read of bytes [${start}, ${end}) outside the file (${byteLength} bytes)`,
        );
      }
      if (end === start) return new ArrayBuffer(0);
      const u8 = await read(start, end);
      if (u8.byteLength !== end - start) {
        throw new CorruptInputError(
          name,
          'truncated_file',
          `${name}: read of bytes [${start}, ${end}) returned ${u8.byteLength} bytes (file shorter than ${byteLength} bytes?)`,
        );
      }
      // hyparquet wraps the result in a DataView from offset 0: hand it an exact ArrayBuffer
      if (u8.byteOffset === 0 && u8.buffer instanceof ArrayBuffer && u8.buffer.byteLength === u8.byteLength) return u8.buffer;
      // (copy: a Node Buffer may sit in a shared pool, and Buffer#slice does not copy)
      return new Uint8Array(u8).buffer;
    },
    close,
  };
}

const MAX_READ = 1 << 28; // one positional read at most 256 MiB (fs limit is 2 GiB)

/**
 * A local file read with positional reads on one descriptor (never loads the whole file).
 * Close it when done. A file that cannot be opened is a CorruptInputError `unreadable_file`.
 */
export async function localFileSource(file: string): Promise<ByteSource & { close(): Promise<void> }> {
  let fh;
  let size: number;
  try {
    fh = await open(file, 'r');
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    await fh?.close().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR' || e.code === 'EPERM') {
      throw new CorruptInputError(file, 'unreadable_file', `${file}: cannot open (${e.message})`, { cause: err });
    }
    throw err;
  }
  const handle = fh;
  let closed: Promise<void> | undefined;
  const read = async (start: number, end: number): Promise<Uint8Array> => {
    const out = new Uint8Array(end - start);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, Math.min(out.length - done, MAX_READ), start + done);
      if (bytesRead === 0) return out.subarray(0, done); // EOF: the file shrank since it was opened
      done += bytesRead;
    }
    return out;
  };
  const src = rangeSource(size, read, file, () => (closed ??= handle.close()));
  return src as ByteSource & { close(): Promise<void> };
}

/**
 * The ByteSource of an input file: `s3://bucket/key` (ranged GETs through the bucket's
 * S3ObjectStore, one HEAD for the size; its Retryable/PermanentErrors pass through) or a local
 * path (localFileSource). Close it when done.
 */
export async function openParquetSource(file: string): Promise<ByteSource & { close(): Promise<void> }> {
  if (!isS3(file)) return localFileSource(file);
  const { store, key } = bucketStore(file);
  const size = await store.size(key);
  const src = rangeSource(
    size,
    (start, end) => store.getRange(key, start, end),
    file,
    async () => {},
  );
  return src as ByteSource & { close(): Promise<void> };
}

// ---------------------------------------------------------------------------------------------
// Shards
