import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout } from 'node:timers/promises';
import type { ObjectStore } from '@nextlong/core';

/**
 * Moving index files between a local folder and the ObjectStore. usearch only reads and
 * writes real files, and the text file can be larger than memory, so both the build and the
 * searcher work on local files; stores that can stream (FsObjectStore, S3) are used that way.
 */

/** Optional streaming methods some stores have beyond the narrow port. */
interface StreamingStore extends ObjectStore {
  putStream?(key: string, body: Readable, signal?: AbortSignal): Promise<void>;
  getStream?(key: string, signal?: AbortSignal): Readable;
}

function randomSuffix(): string {
  return `${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A scratch folder for building files, and how to move a finished one to its key. On a local
 * store the folder sits inside the store (hidden as `.tmp-`, which listings skip) so publishing
 * is a rename; elsewhere it is an OS temp folder and files are uploaded.
 */
export class Staging {
  private constructor(
    readonly dir: string,
    private readonly store: StreamingStore,
    private readonly inStore: boolean,
  ) {}

  static async create(store: ObjectStore, prefix: string, workDir?: string): Promise<Staging> {
    if (store.localPath) {
      const dir = store.localPath(`${prefix}.tmp-build-${randomSuffix()}`);
      await mkdir(dir, { recursive: true });
      return new Staging(dir, store, true);
    }
    const base = workDir ?? os.tmpdir();
    await mkdir(base, { recursive: true });
    return new Staging(await mkdtemp(path.join(base, 'nextlong-index-')), store, false);
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  async publish(name: string, key: string, signal?: AbortSignal): Promise<void> {
    const file = this.path(name);
    if (this.inStore && this.store.localPath) {
      await rename(file, this.store.localPath(key));
    } else if (this.store.putStream) {
      await this.store.putStream(key, createReadStream(file), signal);
    } else {
      await this.store.put(key, await readFile(file), signal);
    }
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/**
 * Copies `key` to `dest` once per host: `dest` sits in a cache shared by every process, so the
 * first caller takes `<dest>.lock` (O_EXCL) and downloads via a temp file and rename, checking
 * size and sha256, while concurrent callers wait for the file to appear — nobody ever reads a
 * partial file, and a crash leaves at most a temp file and a lock whose process is gone (taken
 * over). Skips the copy if `dest` exists: cache folders are named by the descriptor, whose file
 * hashes pin the content.
 */
export async function download(
  store: ObjectStore,
  key: string,
  dest: string,
  want: { bytes: number; sha256: string },
  signal?: AbortSignal,
): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  const lock = `${dest}.lock`;
  for (;;) {
    signal?.throwIfAborted();
    const have = await stat(dest).catch(() => undefined);
    if (have?.isFile() && have.size === want.bytes) return;
    const held = await tryLock(lock);
    if (held) {
      try {
        // Another process may have finished between our stat and the lock.
        const now = await stat(dest).catch(() => undefined);
        if (!(now?.isFile() && now.size === want.bytes)) await fetchVerified(store, key, dest, want, signal);
        return;
      } finally {
        await rm(lock, { force: true });
      }
    }
    await setTimeout(LOCK_POLL_MS, undefined, signal ? { signal } : {});
  }
}

const LOCK_POLL_MS = 50;

/** Creates `lock` holding this process's id; false when a live process holds it (a dead one's is removed). */
async function tryLock(lock: string): Promise<boolean> {
  try {
    await writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(lock, { force: true });
  return false;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fetchVerified(store: ObjectStore, key: string, dest: string, want: { bytes: number; sha256: string }, signal?: AbortSignal) {
  const tmp = `${dest}.tmp-${randomSuffix()}`;
  const s = store as StreamingStore;
  const source = s.getStream ? s.getStream(key, signal) : Readable.from([Buffer.from(await store.get(key, signal))]);
  const h = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(tmp), signal ? { signal } : {});
    const sha256 = h.digest('hex');
    if (bytes !== want.bytes || sha256 !== want.sha256) {
      throw new Error(`downloaded ${store.root}/${key} does not match the index descriptor (${bytes} bytes, sha256 ${sha256})`);
    }
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Reads a whole file into a fresh ArrayBuffer in 64 MiB steps: aligned for typed-array views
 * and not bound by the Buffer size limit (vectors of a large pool pass 2 GiB).
 */
export async function readWhole(file: string, expectBytes: number): Promise<ArrayBuffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size !== expectBytes) throw new Error(`${file}: ${size} bytes, the index descriptor says ${expectBytes}`);
    const buf = new ArrayBuffer(size);
    const step = 64 << 20;
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(new Uint8Array(buf, pos, Math.min(step, size - pos)), 0, Math.min(step, size - pos), pos);
      if (bytesRead === 0) throw new Error(`${file}: unexpected end of file at ${pos}`);
      pos += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Fills `bytes` from `fd` at byte `pos` (a synchronous positional read); `what` names the place in an early-end error. */
export function preadFully(fd: number, bytes: Uint8Array, pos: number, what: string): void {
  for (let got = 0; got < bytes.length;) {
    const n = readSync(fd, bytes, got, bytes.length - got, pos + got);
    if (n === 0) throw new Error(`${what}: the file ended early`);
    got += n;
  }
}
