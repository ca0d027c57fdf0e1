import { BadInputError } from '@nextlong/core';
import { fileRejectReason, readFailure } from './input-errors.js';
import { openInput, openZstdFrames } from './input-source.js';
import { LineKind } from './line-batcher.js';
import { hasContent, readLineBatches } from './line-reader.js';
import { readsOnThread, threadLineBatches } from './line-thread.js';
import { readParquetFileShard } from './parquet-reader.js';
import { invalidUtf8, maxLineBytes, parseRecord, parseRecordText, type RecordOptions } from './records.js';
import type { DocRecord } from './records.js';
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
  const ro: RecordOptions = { ...opts, shardId: spec.id };
  const maxBytes = maxLineBytes(opts.maxRecordChars);
  let ordinal = 0;
  let line = spec.lineStart;
  const threaded = !seek && readsOnThread(spec.file);
  const stream = threaded
    ? undefined
    : frames
      ? openZstdFrames(spec.file, spec.frameStart!, spec.frameEnd)
      : seek
        ? openInput(spec.file, spec.byteStart, spec.byteEnd)
        : openInput(spec.file);
  const firstLine = frames ? spec.frameLine! : seek ? spec.lineStart : 1;
  try {
    if (threaded) {
      // a local .zst read on a thread (line-thread.ts): lines come split, classified and mostly decoded
      const batches = threadLineBatches(spec.file, maxBytes, {
        start: spec.frameStart,
        firstLine,
        runOnAfter: frames && spec.frameEnd !== undefined ? spec.frameEnd - spec.frameStart! : Infinity,
      });
      lines: for await (const b of batches) {
        const { meta } = b;
        const bytes = Buffer.from(b.bytes);
        for (let i = 0; i < b.count; i++) {
          const n = b.firstLine + i;
          line = n + 1;
          if (n < spec.lineStart) continue;
          if (n >= spec.lineEnd) break lines;
          const kind = meta[3 * i]!;
          if (kind !== LineKind.blank) {
            yield item(n, ordinal, () => threadRecord(n, kind, meta[3 * i + 1]!, meta[3 * i + 2]!, bytes, b.utf16, ro));
            ordinal++;
          }
          if (n === spec.lineEnd - 1) break lines;
        }
      }
    } else {
      // each line's bytes are decoded (copied) before the next batch is asked for: the chunks can be recycled
      const batches = readLineBatches(stream as AsyncIterable<Buffer>, firstLine, maxBytes, recycleOutput);
      lines: for await (const batch of batches) {
        for (const raw of batch) {
          line = raw.line + 1;
          if (raw.line < spec.lineStart) continue;
          if (raw.line >= spec.lineEnd) break lines;
          // an over-long line arrives as a marker (no bytes): parseRecord rejects it as too_large
          if (raw.overLimit !== undefined || hasContent(raw.bytes, 0, raw.bytes.length)) {
            yield item(raw.line, ordinal, () => parseRecord(raw, ro));
            ordinal++;
          }
          // the shard's last line: stop before decompressing (or reading) the next shard's first one
          if (raw.line === spec.lineEnd - 1) break lines;
        }
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
    stream?.destroy();
  }
}

/** The record of a line, or the BadInputError that rejects it. */
function item(line: number, ordinal: number, parse: () => DocRecord): ShardItem {
  try {
    return { line, ordinal, doc: parse() };
  } catch (err) {
    if ((err as Error).name !== 'BadInputError') throw err;
    return { line, ordinal, bad: err as BadInputError };
  }
}

/** A non-blank line of a thread's batch (LineKind): decoded here by a copy, then parsed as parseRecord would. */
function threadRecord(line: number, kind: number, a: number, b: number, bytes: Buffer, utf16: ArrayBuffer[], ro: RecordOptions): DocRecord {
  if (kind === LineKind.ascii) return parseRecordText(line, bytes.toString('latin1', a, b), ro);
  if (kind === LineKind.utf16) return parseRecordText(line, Buffer.from(utf16[a]!).toString('utf16le'), ro);
  if (kind === LineKind.invalid) throw invalidUtf8(line);
  // LineKind.over: the marker readLineBatches gives such a line
  return parseRecord({ line, bytes: Buffer.alloc(0), overLimit: a }, ro);
}
