/**
 * The shapes of planned work, shared by the planner (inputs.ts, zstd-plan.ts) and the readers
 * (shard-reader.ts, parquet-reader.ts) so that neither imports the other for its types.
 */
import type { BadInputError } from '@nextlong/core';
import type { PlanThreads } from './plan-threads.js';
import type { DocRecord } from './records.js';

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
  /**
   * A shard of a multi-frame `.zst`: the compressed byte range of its whole frames (`frameEnd`
   * absent: to the end of the file), and the number of the line its first byte belongs to. The
   * shard decompresses from `frameStart`, and past `frameEnd` only to finish its last line.
   */
  frameStart?: number;
  frameEnd?: number;
  frameLine?: number;
  /** Non-blank lines (records) in the shard. */
  records: number;
}

export interface PlanOptions {
  /** Threads that scan large local `.zst` files frame range by frame range (none: scan here). */
  threads?: PlanThreads;
  /** Smallest local `.zst` (bytes) scanned on the threads (default 16 MiB). */
  minParallelBytes?: number;
  /** Called with each count of input bytes scanned (as stored; decompressed for `.gz`), for progress. */
  onBytes?: (n: number) => void;
}

/**
 * The `kind: 'parquet'` member of ShardSpec. `lineStart`/`lineEnd` are the 1-based row
 * numbers (rowStart + 1, rowEnd + 1) so code that reports or compares lines keeps working.
 */
export interface ParquetShardSpec {
  kind: 'parquet';
  id: string;
  file: string;
  /** Index of the row group in the file's footer. */
  rowGroup: number;
  /** 0-based rows of the file, end exclusive; always within row group `rowGroup`. */
  rowStart: number;
  rowEnd: number;
  lineStart: number;
  lineEnd: number;
  /** Rows in the shard (every row is a record: rowEnd - rowStart). */
  records: number;
}

/** One record of a shard, or the reason it was rejected. */
export type ShardItem = { line: number; ordinal: number; doc: DocRecord } | { line: number; ordinal: number; bad: BadInputError };
