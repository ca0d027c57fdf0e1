import { BadInputError } from '@nextlong/core';
import type { ShardSpec } from './inputs.js';
import { openInput } from './input-source.js';
import { readLines } from './line-reader.js';
import { readParquetFileShard } from './parquet-reader.js';
import { parseRecord, type DocRecord, type RecordOptions } from './records.js';

export type ShardItem =
  | { line: number; ordinal: number; doc: DocRecord }
  | { line: number; ordinal: number; bad: BadInputError };

/**
 * The records of one shard in file order. `ordinal` counts non-blank lines within the
 * shard (the unit of `--sequences` sampling); blank lines are not records.
 */
export async function* readShard(spec: ShardSpec, opts: Omit<RecordOptions, 'shardId'>): AsyncGenerator<ShardItem> {
  if (spec.kind === 'parquet') {
    yield* readParquetFileShard(spec, opts);
    return;
  }
  const seek = spec.byteStart !== undefined;
  const stream = seek ? openInput(spec.file, spec.byteStart, spec.byteEnd) : openInput(spec.file);
  const ro: RecordOptions = { ...opts, shardId: spec.id };
  let ordinal = 0;
  let line = spec.lineStart;
  try {
    for await (const raw of readLines(stream as AsyncIterable<Buffer>, seek ? spec.lineStart : 1)) {
      line = raw.line + 1;
      if (raw.line < spec.lineStart) continue;
      if (raw.line >= spec.lineEnd) break;
      if (isBlank(raw.bytes)) continue;
      try {
        yield { line: raw.line, ordinal, doc: parseRecord(raw, ro) };
      } catch (err) {
        if ((err as Error).name !== 'BadInputError') throw err;
        yield { line: raw.line, ordinal, bad: err as BadInputError };
      }
      ordinal++;
    }
  } catch (err) {
    // the file broke (truncated, corrupt, unreadable): one reject where it broke, then stop
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR' ? 'unreadable_file' : 'truncated_file';
    yield { line, ordinal, bad: new BadInputError(reason, `${spec.file}: line ${line}: ${reason.replace('_', ' ')} (${e.message})`) };
  } finally {
    stream.destroy();
  }
}

function isBlank(b: Buffer): boolean {
  for (const c of b) if (c !== 32 && c !== 9 && c !== 13) return false;
  return true;
}
