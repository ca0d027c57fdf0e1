import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import { compressionOf, openLocal } from './line-reader.js';
import { parseS3Uri, S3ObjectStore } from './s3-store.js';

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

/** The decompressed byte stream of an input file, local or on S3 (offsets: local uncompressed only). */
export function openInput(file: string, start = 0, end?: number): Readable {
  if (!isS3(file)) return openLocal(file, start, end);
  const { store, key } = bucketStore(file);
  const raw = store.getStream(key);
  const kind = compressionOf(file);
  if (kind === 'none') return raw;
  const dec = kind === 'gzip' ? createGunzip() : new DecompressStream();
  raw.on('error', (e) => dec.destroy(e));
  return raw.pipe(dec);
}
