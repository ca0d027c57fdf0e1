import { BadInputError } from '@nextlong/core';
import { fileRejectReason, readFailure } from './input-errors.js';
import { openInput, openZstdFrames } from './input-source.js';
import { LineKind } from './line-batcher.js';
import { hasContent, readLineBatches, type RawLine } from './line-reader.js';
import { readsOnThread, threadLineBatches } from './line-thread.js';
import { readParquetFileShard } from './parquet-reader.js';
import { invalidUtf8, maxLineBytes, parseRecord, parseRecordText, type RecordOptions } from './records.js';
import type { DocRecord } from './records.js';
import type { JsonlShardSpec, ShardItem, ShardSpec } from './shard-spec.js';
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
    const views = threaded
      ? threadViews(spec, firstLine, maxBytes, ro)
      : streamViews(readLineBatches(stream as AsyncIterable<Buffer>, firstLine, maxBytes, recycleOutput), ro);
    lines: for await (const v of views) {
      for (let i = 0; i < v.count; i++) {
        const n = v.line(i);
        line = n + 1;
        if (n < spec.lineStart) continue;
        if (n >= spec.lineEnd) break lines;
        // parsed (its bytes copied) before the next batch is asked for: a batch's buffers can be reused
        if (v.isRecord(i)) yield item(n, ordinal++, () => v.parse(i));
        // the shard's last line: stop before decompressing (or reading) the next shard's first one
        if (n === spec.lineEnd - 1) break lines;
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

/** One batch of a shard file's lines, however they were read: numbers, which hold a record, and parsing. */
interface LineView {
  count: number;
  line(i: number): number;
  /** False for a blank line (not a record, no ordinal). */
  isRecord(i: number): boolean;
  parse(i: number): DocRecord;
}

/** readLineBatches' batches: raw bytes, decoded and parsed here. */
async function* streamViews(batches: AsyncIterable<RawLine[]>, ro: RecordOptions): AsyncGenerator<LineView> {
  for await (const b of batches) {
    yield {
      count: b.length,
      line: (i) => b[i]!.line,
      // an over-long line arrives as a marker (no bytes): parseRecord rejects it as too_large
      isRecord: (i) => b[i]!.overLimit !== undefined || hasContent(b[i]!.bytes, 0, b[i]!.bytes.length),
      parse: (i) => parseRecord(b[i]!, ro),
    };
  }
}

/** A local .zst read on a thread (line-thread.ts): lines come split, classified and mostly decoded (LineKind). */
async function* threadViews(spec: JsonlShardSpec, firstLine: number, maxBytes: number, ro: RecordOptions): AsyncGenerator<LineView> {
  const frames = spec.frameStart !== undefined;
  const batches = threadLineBatches(spec.file, maxBytes, {
    start: spec.frameStart,
    firstLine,
    runOnAfter: frames && spec.frameEnd !== undefined ? spec.frameEnd - spec.frameStart! : Infinity,
  });
  for await (const b of batches) {
    const { meta, utf16 } = b;
    const bytes = Buffer.from(b.bytes);
    yield {
      count: b.count,
      line: (i) => b.firstLine + i,
      isRecord: (i) => meta[3 * i] !== LineKind.blank,
      parse: (i) => {
        const [kind, a, e] = [meta[3 * i]!, meta[3 * i + 1]!, meta[3 * i + 2]!];
        const n = b.firstLine + i;
        if (kind === LineKind.ascii) return parseRecordText(n, bytes.toString('latin1', a, e), ro);
        if (kind === LineKind.utf16) return parseRecordText(n, Buffer.from(utf16[a]!).toString('utf16le'), ro);
        if (kind === LineKind.invalid) throw invalidUtf8(n);
        // LineKind.over: the marker readLineBatches gives such a line
        return parseRecord({ line: n, bytes: Buffer.alloc(0), overLimit: a }, ro);
      },
    };
  }
}
