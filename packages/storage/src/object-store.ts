import { copyFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, PermanentError } from '@nextlong/core';
import { FsObjectStore } from './fs-store.js';
import { checkRange, S3ObjectStore, type S3StoreOptions } from './s3-store.js';
import type { StreamingObjectStore } from './store-types.js';

export type { StreamingObjectStore } from './store-types.js';

/**
 * Opens the store for `--out`/`--pool` style locations: `s3://bucket/prefix` (S3ObjectStore,
 * settings from `options.env` or process.env), `file://...` or a local path (LocalObjectStore).
 * Other schemes are a ConfigError.
 */
export function openObjectStore(uri: string, options: S3StoreOptions = {}): StreamingObjectStore {
  if (/^s3:\/\//i.test(uri)) {
    if (!uri.startsWith('s3://')) throw new ConfigError(`S3 locations are written s3://<bucket>[/<prefix>] in lower case`);
    return new S3ObjectStore(uri, options);
  }
  if (uri.startsWith('file://')) return new LocalObjectStore(fileURLToPath(uri));
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(uri)) {
    throw new ConfigError(
      `unsupported store location scheme "${uri.slice(0, uri.indexOf(':'))}": use a local path or s3://<bucket>[/<prefix>]`,
    );
  }
  if (uri.trim() === '') throw new ConfigError('the store location is empty: use a local path or s3://<bucket>[/<prefix>]');
  return new LocalObjectStore(uri);
}

function notFound(op: string, where: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
    return Object.assign(new PermanentError(`${op} ${where} failed: no such object`, { cause: err }), { code });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return Object.assign(new PermanentError(`${op} ${where} failed: permission denied`, { cause: err }), { code });
  }
  return err as Error;
}

/**
 * FsObjectStore plus the methods of StreamingObjectStore. A missing object is a
 * PermanentError (with the errno `code` kept) for get, getRange and size.
 */
export class LocalObjectStore extends FsObjectStore implements StreamingObjectStore {
  override async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    try {
      return await readFile(this.localPath(key), { signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw notFound('get', this.localPath(key), err);
    }
  }

  async getRange(key: string, start: number, end?: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(start, end);
    signal?.throwIfAborted();
    const p = this.localPath(key);
    let fh;
    try {
      fh = await open(p, 'r');
    } catch (err) {
      throw notFound('getRange', p, err);
    }
    try {
      const size = (await fh.stat()).size;
      const stop = Math.min(end ?? size, size);
      if (start >= stop) return new Uint8Array(0);
      const buf = Buffer.allocUnsafe(stop - start);
      let got = 0;
      while (got < buf.length) {
        signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, got);
    } finally {
      await fh.close();
    }
  }

  async size(key: string, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const p = this.localPath(key);
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      throw notFound('size', p, err);
    }
    if (!st.isFile()) throw Object.assign(new PermanentError(`size ${p} failed: not a file`), { code: 'EISDIR' });
    return st.size;
  }

  /** Renames `localPath` into place; across filesystems copies (via a temp file and rename) and removes it. */
  async putFile(key: string, localPath: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const dest = this.localPath(key);
    await mkdir(path.dirname(dest), { recursive: true });
    try {
      await rename(localPath, dest);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
    const tmp = `${dest}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await copyFile(localPath, tmp);
      signal?.throwIfAborted();
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await rm(localPath, { force: true });
  }
}
