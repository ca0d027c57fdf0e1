import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@nextlong/core';
import { bucketStore, isS3, isSeekable, openInput } from './input-source.js';
import { planParquetFile, PARQUET_FILE, type ParquetShardSpec } from './parquet-reader.js';

const CORPUS_FILE = /\.(jsonl|ndjson|json)(\.gz|\.zst|\.zstd)?$|\.parquet$/i;

/** Expands inputs (files, folders, globs) to a sorted, de-duplicated list of corpus files. */
export async function expandInputs(inputs: string[], what = 'input'): Promise<string[]> {
  const files = new Set<string>();
  for (const spec of inputs) {
    const found = isS3(spec) ? await expandS3(spec) : /[*?[]/.test(spec) ? await glob(spec) : await expandPath(spec);
    if (found.length === 0) throw new ConfigError(`${what}: no corpus files match ${spec}`);
    for (const f of found) files.add(f);
  }
  return [...files].sort();
}

/** `s3://bucket/key`, or every corpus file under `s3://bucket/prefix/`, or a glob over keys. */
async function expandS3(spec: string): Promise<string[]> {
  const wild = spec.search(/[*?[]/);
  const base = wild === -1 ? spec : spec.slice(0, spec.lastIndexOf('/', wild));
  const { store, key } = bucketStore(base);
  const bucketUri = `s3://${store.bucket}/`;
  if (wild === -1 && CORPUS_FILE.test(key) && (await store.exists(key))) return [spec];
  const re = wild === -1 ? undefined : globRegex(spec.slice(bucketUri.length));
  const out: string[] = [];
  for await (const k of store.list(key ? `${key}/` : '')) {
    if (re ? re.test(k) : CORPUS_FILE.test(k)) out.push(bucketUri + k);
  }
  return out;
}

async function expandPath(p: string): Promise<string[]> {
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new ConfigError(`input: ${p} does not exist`);
  }
  if (st.isFile()) return [path.resolve(p)];
  const out: string[] = [];
  await walk(path.resolve(p), out);
  return out.filter((f) => CORPUS_FILE.test(f));
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Minimal glob: `*` and `?` within a path part, `**` across folders. */
async function glob(pattern: string): Promise<string[]> {
  const abs = path.resolve(pattern);
  const parts = abs.split(path.sep);
  const fixed = parts.findIndex((s) => /[*?[]/.test(s));
  const base = parts.slice(0, fixed).join(path.sep) || path.sep;
  const re = globRegex(abs);
  const all: string[] = [];
  try {
    await walk(base, all);
  } catch {
    return [];
  }
  return all.filter((f) => re.test(f));
}

function globRegex(pattern: string): RegExp {
  const parts = pattern.split(/(\*\*\/|\*\*|\*|\?)/);
  const body = parts.map((t) =>
    t === '**/' ? '(?:.*/)?' : t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${body.join('')}$`);
}

function hasContent(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c !== 13 && c !== 32 && c !== 9) return true;
  }
  return false;
}

/** A unit of work: a range of records of one file, with a stable id. */
export type ShardSpec = JsonlShardSpec | ParquetShardSpec;

/** A range of lines of a JSONL file (`kind` is absent in plans written before Parquet). */
export interface JsonlShardSpec {
  kind?: 'jsonl';
  id: string;
  file: string;
  /** 1-based number of the shard's first line, and one past its last line. */
  lineStart: number;
  lineEnd: number;
  /** Byte range for uncompressed files (lets a shard start reading mid-file). */
  byteStart?: number;
  byteEnd?: number;
  /** Non-blank lines (records) in the shard. */
  records: number;
}

/**
 * Scans a file once and cuts it into shards of `shardDocs` records. Shard ids are stable:
 * file stem, a hash of the path as given, and the first line.
 */
export async function planFileShards(file: string, shardDocs: number, prefix = ''): Promise<ShardSpec[]> {
  if (PARQUET_FILE.test(file)) return planParquetFile(file, shardDocs, prefix);
  const tag = createHash('sha1').update(file).digest('hex').slice(0, 8);
  const stem = path.posix.basename(file).replace(/\.(jsonl|ndjson|json)(\.gz|\.zst|\.zstd)?$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  const seekable = isSeekable(file);
  const shards: JsonlShardSpec[] = [];
  let cur: JsonlShardSpec | undefined;
  let line = 1;
  let offset = 0;
  let lineStartOffset = 0;
  let lineHasContent = false;
  const endLine = () => {
    if (lineHasContent) {
      if (!cur || cur.records === shardDocs) {
        if (cur) close(cur, line, lineStartOffset);
        cur = { id: `${prefix}${stem}-${tag}-${line}`, file, lineStart: line, lineEnd: line, records: 0 };
        if (seekable) cur.byteStart = lineStartOffset;
        shards.push(cur);
      }
      cur.records++;
    }
    line++;
    lineHasContent = false;
  };
  const close = (s: JsonlShardSpec, l: number, off: number) => {
    s.lineEnd = l;
    if (seekable) s.byteEnd = off;
  };
  try {
    for await (const chunk of openInput(file) as AsyncIterable<Buffer>) {
      // indexOf finds line ends natively; a line's content check stops at its first non-blank byte
      let pos = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, pos)) {
        lineHasContent ||= hasContent(chunk, pos, nl);
        endLine();
        lineStartOffset = offset + nl + 1;
        pos = nl + 1;
      }
      lineHasContent ||= hasContent(chunk, pos, chunk.length);
      offset += chunk.length;
    }
  } catch {
    // unreadable or truncated: the shard reader reports it as a reject where it breaks
    if (!cur) shards.push((cur = { id: `${prefix}${stem}-${tag}-${line}`, file, lineStart: line, lineEnd: line, records: 0 }));
    lineHasContent = false;
  }
  endLine();
  if (cur) close(cur, line, offset);
  return shards;
}
