import { BadInputError } from '@nextlong/core';
import { fileRejectReason, readFailure } from './input-errors.js';
import { openInput, openZstdFrames } from './input-source.js';
import { hasContent, readLineBatches } from './line-reader.js';
import { readParquetFileShard } from './parquet-reader.js';
import { maxLineBytes, parseRecord, type RecordOptions } from './records.js';
import type { ShardItem, ShardSpec } from './shard-spec.js';
import { recycleOutput } from './zstd-stream.js';

export type { ShardItem } from './shard-spec.js';

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
  const frames = spec.frameStart !== undefined;
  const stream = frames
    ? openZstdFrames(spec.file, spec.frameStart!, spec.frameEnd)
    : seek
      ? openInput(spec.file, spec.byteStart, spec.byteEnd)
      : openInput(spec.file);
  const firstLine = frames ? spec.frameLine! : seek ? spec.lineStart : 1;
  const ro: RecordOptions = { ...opts, shardId: spec.id };
  let ordinal = 0;
  let line = spec.lineStart;
  try {
    // each line's bytes are decoded (copied) before the next batch is asked for: the chunks can be recycled
    const batches = readLineBatches(stream as AsyncIterable<Buffer>, firstLine, maxLineBytes(opts.maxRecordChars), recycleOutput);
    lines: for await (const batch of batches) {
      for (const raw of batch) {
        line = raw.line + 1;
        if (raw.line < spec.lineStart) continue;
        if (raw.line >= spec.lineEnd) break lines;
        // an over-long line arrives as a marker (no bytes): parseRecord rejects it as too_large
        if (raw.overLimit !== undefined || hasContent(raw.bytes, 0, raw.bytes.length)) {
          try {
            yield { line: raw.line, ordinal, doc: parseRecord(raw, ro) };
          } catch (err) {
            if ((err as Error).name !== 'BadInputError') throw err;
            yield { line: raw.line, ordinal, bad: err as BadInputError };
          }
          ordinal++;
        }
        // the shard's last line: stop before decompressing (or reading) the next shard's first one
        if (raw.line === spec.lineEnd - 1) break lines;
      }
    }
  } catch (err) {
    // bad bytes (cut short, corrupt, not gzip) or a file that cannot be opened: one reject where
    // it broke. Anything else (a transient failure that outlasted its retries) fails the shard:
    // the records after the break are never dropped silently.
    const reason = fileRejectReason(err);
    if (reason === undefined) throw readFailure(spec.file, err);
    const e = err as Error;
    const what = e.message.startsWith(`${spec.file}: `)
      ? e.message.slice(spec.file.length + 2)
      : `${reason.replace('_', ' ')} (${e.message})`;
    yield { line, ordinal, bad: new BadInputError(reason, `${spec.file}: line ${line}: ${what}`) };
  } finally {
    stream.destroy();
  }
}
