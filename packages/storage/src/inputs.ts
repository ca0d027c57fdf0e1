import { createHash } from 'node:crypto';
import path from 'node:path';
import { isCorruptInput } from './corrupt-input.js';
import { planFailure } from './input-errors.js';
import { isSeekable, openInput } from './input-source.js';
import { compressionOf } from './line-reader.js';
import { planParquetFile, PARQUET_FILE } from './parquet-reader.js';
import type { JsonlShardSpec, PlanOptions, ShardSpec } from './shard-spec.js';
import { planZstdShards } from './zstd-plan.js';

// expandInputs (files, folders, globs) lives in expand-inputs.ts
export { expandInputs } from './expand-inputs.js';
export type { JsonlShardSpec, PlanOptions, ShardSpec } from './shard-spec.js';

function hasContent(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c !== 13 && c !== 32 && c !== 9) return true;
  }
  return false;
}

/**
 * Scans a file once and cuts it into shards of `shardDocs` records. Shard ids are stable:
 * file stem, a hash of the path as given, and the first line. A compressed file is cut only at
 * zstd frame boundaries (zstd-plan.ts): a single-frame `.zst` and a `.gz` are one shard each.
 */
export async function planFileShards(file: string, shardDocs: number, prefix = '', o: PlanOptions = {}): Promise<ShardSpec[]> {
  if (PARQUET_FILE.test(file)) return planParquetFile(file, shardDocs, prefix);
  const tag = createHash('sha1').update(file).digest('hex').slice(0, 8);
  const stem = path.posix.basename(file).replace(/\.(jsonl|ndjson|json)(\.gz|\.zst|\.zstd)?$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  const kind = compressionOf(file);
  if (kind === 'zstd') {
    try {
      return await planZstdShards(file, shardDocs, `${prefix}${stem}-${tag}`, o);
    } catch (err) {
      throw planFailure(file, err);
    }
  }
  // a gzip stream cannot be entered mid-way: one shard per file
  if (kind === 'gzip') shardDocs = Infinity;
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
      o.onBytes?.(chunk.length);
    }
  } catch (err) {
    // a read failure (retried first, by the S3 stream) fails the plan, naming the file; bad
    // bytes (cut short, corrupt, not gzip) plan the records before the break, and the shard
    // reader rejects the file where it breaks
    if (!isCorruptInput(err)) throw planFailure(file, err);
    if (!cur) shards.push((cur = { id: `${prefix}${stem}-${tag}-${line}`, file, lineStart: line, lineEnd: line, records: 0 }));
    lineHasContent = false;
  }
  endLine();
  if (cur) close(cur, line, offset);
  return shards;
}
