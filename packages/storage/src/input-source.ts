import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { decoderFailure, notGzip } from './input-errors.js';
import { compressionOf, openLocal } from './line-reader.js';
import { parseS3Uri, S3ObjectStore } from './s3-store.js';
import { zstdDecompress } from './zstd-stream.js';

/** Input files are local paths or `s3://bucket/key` URIs. */
export const isS3 = (file: string) => file.startsWith('s3://');

const buckets = new Map<string, S3ObjectStore>();

/** The store of an S3 input's bucket (one client per bucket per process). */
export function bucketStore(uri: string): { store: S3ObjectStore; key: string } {
  const { bucket, prefix } = parseS3Uri(uri);
  let store = buckets.get(bucket);
  if (!store) buckets.set(bucket, (store = new S3ObjectStore(`s3://${bucket}`)));
  return { store, key: prefix };
}

/** Whether a shard of this file can start reading at a byte offset. */
export function isSeekable(file: string): boolean {
  return !isS3(file) && compressionOf(file) === 'none';
}

/**
 * The decompressed byte stream of an input file, local or on S3 (offsets: local uncompressed
 * only). An S3 download resumes itself after transient failures (S3ObjectStore.getStream), so
 * the stream either ends at the real end of the file or fails with the error that stopped it;
 * a decoder failure is a CorruptInputError (truncated_file, corrupt_file, not_gzip).
 */
export function openInput(file: string, start = 0, end?: number): Readable {
  const kind = compressionOf(file);
  if (kind === 'none') {
    if (!isS3(file)) return openLocal(file, start, end);
    const { store, key } = bucketStore(file);
    return store.getStream(key);
  }
  if (start !== 0 || end !== undefined) throw new Error(`${file}: compressed files cannot be read from an offset`);
  let raw: Readable;
  if (isS3(file)) {
    const { store, key } = bucketStore(file);
    raw = store.getStream(key);
  } else raw = createReadStream(file);
  return Readable.from(decoded(raw, kind, file), { objectMode: false });
}

/** S3 ranged reads of a shard's frames: large enough to stream well, small past the shard's end. */
const RANGE_BYTES = 8 << 20;
const RUN_ON_BYTES = 256 << 10;

/**
 * The decompressed bytes of a `.zst` from the frame at `start`: its range [start, end) first,
 * then, only as far as the reader asks (to finish a line that runs on), the rest of the file.
 * S3 inputs are read with ranged GETs (each retried by the store). Errors as for openInput.
 */
export function openZstdFrames(file: string, start: number, end: number | undefined): Readable {
  const raw = Readable.from(rangeThenRest(file, start, end), { objectMode: false });
  return Readable.from(decoded(raw, 'zstd', file, end === undefined ? undefined : end - start), { objectMode: false });
}

async function* rangeThenRest(file: string, start: number, end: number | undefined): AsyncGenerator<Buffer> {
  if (!isS3(file)) {
    if (end !== undefined) yield* createReadStream(file, { start, end: end - 1 });
    yield* createReadStream(file, { start: end ?? start });
    return;
  }
  const { store, key } = bucketStore(file);
  const pieces = (from: number, to: number | undefined, step: number) => ranged(store, key, from, to, step);
  if (end !== undefined) yield* pieces(start, end, RANGE_BYTES);
  yield* pieces(end ?? start, undefined, end === undefined ? RANGE_BYTES : RUN_ON_BYTES);
}

/**
 * Ranged GETs of [from, to) (to undefined: the end of the object), the next one requested while
 * one is consumed; pieces grow from `step` to RANGE_BYTES (a run-on line is usually short).
 */
async function* ranged(store: S3ObjectStore, key: string, from: number, to: number | undefined, step: number): AsyncGenerator<Buffer> {
  const get = (a: number, n: number) => store.getRange(key, a, to === undefined ? a + n : Math.min(a + n, to));
  let want = step;
  let next: Promise<Uint8Array> | undefined = get(from, want);
  for (let at = from; next;) {
    const piece: Uint8Array = await next;
    at += piece.length;
    // a piece shorter than asked is the end of the object (or of the range)
    const more: boolean = piece.length === want && (to === undefined || at < to);
    want = Math.min(want * 2, RANGE_BYTES);
    next = more ? get(at, want) : undefined;
    next?.catch(() => {}); // awaited on the next turn; a reader that stops first leaves it unheard
    if (piece.length) yield Buffer.from(piece.buffer, piece.byteOffset, piece.length);
  }
}

async function* decoded(raw: Readable, kind: 'gzip' | 'zstd', file: string, runOnAfter?: number): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let sourceError: unknown;
  const next = async () => {
    try {
      return await it.next();
    } catch (err) {
      sourceError = err;
      throw err;
    }
  };
  try {
    // the first bytes: an empty file holds no records; a .gz must start with the gzip magic
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < 2) {
      const n = await next();
      if (n.done) {
        ended = true;
        break;
      }
      head.push(n.value);
      headBytes += n.value.length;
    }
    if (headBytes === 0) return;
    const first = Buffer.concat(head);
    if (kind === 'gzip' && (first[0] !== 0x1f || (first.length > 1 && first[1] !== 0x8b))) throw notGzip(file);
    const feed = async function* () {
      yield first;
      for (let n = ended ? undefined : await next(); n && !n.done; n = await next()) yield n.value;
    };
    const gz = kind === 'gzip' ? gunzip(Readable.from(feed(), { objectMode: false })) : undefined;
    const dec: AsyncIterable<Buffer> = gz ?? zstdDecompress(feed(), runOnAfter);
    let out = 0;
    try {
      for await (const chunk of dec) {
        out += chunk.length;
        yield chunk;
      }
    } catch (err) {
      if (sourceError !== undefined) throw sourceError;
      throw decoderFailure(file, kind, err, out);
    } finally {
      gz?.destroy();
    }
  } finally {
    raw.destroy();
  }
}

/** Gunzip of `src`; an error of either stream destroys both and surfaces on the result. */
function gunzip(src: Readable): Readable {
  const dec = createGunzip();
  pipeline(src, dec, () => {});
  return dec;
}
