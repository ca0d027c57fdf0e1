import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@nextlong/core';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { bucketStore, isS3 } from './input-source.js';

/** What a folder or an S3 prefix contributes: JSONL (optionally compressed) and Parquet files. */
export const CORPUS_FILE = /\.(jsonl|ndjson|json)(\.gz|\.zst|\.zstd)?$|\.parquet$/i;

/**
 * Expands inputs (files, folders, globs; local or `s3://`) to a sorted, de-duplicated list of
 * corpus files. Globs are matched by maintained libraries (tinyglobby locally, picomatch over
 * S3 keys) with the same syntax on both: `*`, `?`, `[ab]`, `{a,b}`, `**`; like a shell, `*`
 * does not match a leading dot. A folder or prefix gives every corpus file under it.
 */
export async function expandInputs(inputs: string[], what = 'input'): Promise<string[]> {
  const files = new Set<string>();
  for (const spec of inputs) {
    const found = isS3(spec) ? await expandS3(spec) : await expandLocal(spec, what);
    if (found.length === 0) throw new ConfigError(`${what}: no corpus files match ${spec}`);
    for (const f of found) files.add(f);
  }
  return [...files].sort();
}

/** `s3://bucket/key`, or every corpus file under `s3://bucket/prefix/`, or a glob over keys. */
async function expandS3(spec: string): Promise<string[]> {
  const { store, key } = bucketStore(spec);
  const bucketUri = `s3://${store.bucket}/`;
  const scan = picomatch.scan(key);
  if (!scan.isGlob) {
    if (CORPUS_FILE.test(key) && (await store.exists(key))) return [spec];
    return listKeys(store, key, (k) => CORPUS_FILE.test(k), bucketUri);
  }
  const match = picomatch(key);
  return listKeys(store, scan.base, match, bucketUri);
}

async function listKeys(
  store: ReturnType<typeof bucketStore>['store'],
  prefix: string,
  keep: (key: string) => boolean,
  bucketUri: string,
): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list(prefix ? `${prefix.replace(/\/+$/, '')}/` : '')) if (keep(k)) out.push(bucketUri + k);
  return out;
}

/** A file, a folder (its corpus files, recursively), or a glob. A path that exists is never read as a glob. */
async function expandLocal(spec: string, what: string): Promise<string[]> {
  const st = await stat(spec).catch(() => undefined);
  if (st?.isFile()) return [path.resolve(spec)];
  if (st?.isDirectory()) {
    const all = await glob('**/*', { cwd: spec, absolute: true, onlyFiles: true, dot: true, expandDirectories: false });
    return all.filter((f) => CORPUS_FILE.test(f)).map((f) => path.resolve(f));
  }
  const scan = picomatch.scan(spec);
  if (!scan.isGlob) throw new ConfigError(`${what}: ${spec} does not exist`);
  // walk from the pattern's fixed folder only, not from the current directory
  const base = path.resolve(scan.base || '.');
  const found = await glob(scan.glob, { cwd: base, absolute: true, onlyFiles: true, expandDirectories: false });
  return found.map((f) => path.resolve(f));
}
