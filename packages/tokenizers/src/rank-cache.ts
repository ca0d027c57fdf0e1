/**
 * BPE ranks prepared once per machine: a process reads the ranks text from the cache folder
 * instead of rebuilding it (Llama-3's 128k ranks take seconds to derive from their source).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { nextlongCacheDir } from '@nextlong/core';

/** Where the ranks text `name` is cached. */
export function rankCachePath(name: string): string {
  return path.join(nextlongCacheDir(), 'tokenizers', `${name}.tiktoken`);
}

/**
 * The ranks text `name` from the cache when `valid` accepts it, else `build()`'s, then stored
 * for the next process. The file lands by temp file + rename, so a reader sees no file or a
 * whole one; processes that start together may each build, and the last rename wins (same
 * bytes). A cache that cannot be written costs only the rebuild.
 */
export function cachedRanks(name: string, build: () => string, valid: (text: string) => boolean): string {
  const file = rankCachePath(name);
  const cached = readIfPresent(file);
  if (cached !== undefined && valid(cached)) return cached;
  const text = build();
  try {
    writeAtomicSync(file, text);
  } catch {
    // read-only or full disk: this process has its ranks, the next one rebuilds them
  }
  return text;
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function writeAtomicSync(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}
