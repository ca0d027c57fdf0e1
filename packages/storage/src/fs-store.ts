import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '@nextlong/core';

/**
 * ObjectStore on a local folder. Writes go to a temporary file renamed into place, so a
 * reader (or a crash) never sees half an object.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  localPath(key: string): string {
    const p = path.resolve(this.root, key);
    if (p !== this.root && !p.startsWith(this.root + path.sep)) throw new Error(`object key escapes the store: ${key}`);
    return p;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const p = this.localPath(key);
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, body);
    await rename(tmp, p);
  }

  /** Streams a large object into place (same atomic rename). */
  async putStream(key: string, body: Readable): Promise<void> {
    const p = this.localPath(key);
    await mkdir(path.dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await pipeline(body, createWriteStream(tmp));
    await rename(tmp, p);
  }

  async get(key: string): Promise<Uint8Array> {
    return readFile(this.localPath(key));
  }

  getStream(key: string): Readable {
    return createReadStream(this.localPath(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.localPath(key));
      return true;
    } catch {
      return false;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const base = this.localPath(prefix.endsWith('/') ? prefix : path.dirname(prefix) || '.');
    const out: string[] = [];
    await walk(base, out);
    const keys = out.map((p) => path.relative(this.root, p).split(path.sep).join('/'));
    for (const k of keys.filter((k) => k.startsWith(prefix) && !k.includes('.tmp-')).sort()) yield k;
  }

  async delete(key: string): Promise<void> {
    await rm(this.localPath(key), { force: true, recursive: true });
  }
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else out.push(p);
  }
}
