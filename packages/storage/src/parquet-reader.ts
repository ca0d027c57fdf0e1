/**
 * Streaming Parquet corpus reader (FineWeb-Edu / Cosmopedia style files: a `text` column, an
 * optional `id` column, other columns ignored; codecs uncompressed, snappy, gzip, zstd, and
 * the rest hyparquet-compressors knows).
 *
 * One shard per row group (or per `maxRows` rows of one): planning reads only the footer,
 * reading a shard fetches only the text/id column chunks of its row group, so memory is
 * bounded by one row group's text (see readParquetShard) rather than by the file.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BadInputError, PermanentError } from '@nextlong/core';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type Compressors, type FileMetaData } from 'hyparquet';
import { compressors as jsCompressors } from 'hyparquet-compressors';
import { decompress as zstdDecompress } from 'zstd-napi';
import type { DocRecord, RecordOptions } from './records.js';
import type { ParquetShardSpec, ShardItem } from './shard-spec.js';
import { openParquetSource, type ByteSource } from './byte-source.js';
import { CorruptInputError, isCorruptInput } from './corrupt-input.js';

export * from './byte-source.js';
export type { ParquetShardSpec } from './shard-spec.js';

// ---------------------------------------------------------------------------------------------
// Footer and planning

/** What the footer says, kept so several shards of one file can share one footer read. */
export interface ParquetFooter {
  file: string;
  metadata: FileMetaData;
  /** Top-level column names. */
  columns: string[];
  /** Per row group: first row (0-based, in the file) and row count. */
  rowGroups: { rowStart: number; rows: number }[];
  rows: number;
}

/** Reads and parses only the footer (hyparquet fetches the last 512 KiB, more if needed). */
export async function readParquetFooter(file: string, source: ByteSource): Promise<ParquetFooter> {
  let metadata: FileMetaData;
  let columns: string[];
  try {
    metadata = await parquetMetadataAsync(guard(source));
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (err) {
    throw classify(err, file, 'footer');
  }
  const rowGroups: ParquetFooter['rowGroups'] = [];
  let row = 0;
  for (const g of metadata.row_groups) {
    const rows = Number(g.num_rows);
    rowGroups.push({ rowStart: row, rows });
    row += rows;
  }
  return { file, metadata, columns, rowGroups, rows: row };
}

/**
 * Plans the shards of one Parquet file from its footer alone: one shard per non-empty row
 * group, or pieces of at most `maxRows` rows when a group is larger. Ids are stable like
 * planFileShards': `<prefix><stem>-<sha1(path) 8 hex>-rg<N>`, with `-<first row in the group>`
 * appended for the pieces of a split group. An unreadable footer throws CorruptInputError.
 */
export async function planParquetShards(file: string, source: ByteSource, prefix = '', maxRows = Infinity): Promise<ParquetShardSpec[]> {
  const footer = await readParquetFooter(file, source);
  const idBase = shardIdBase(file, prefix);
  const step = Math.max(1, Math.floor(maxRows));
  const shards: ParquetShardSpec[] = [];
  footer.rowGroups.forEach(({ rowStart, rows }, g) => {
    if (rows === 0) return;
    const split = rows > step;
    for (let off = 0; off < rows; off += step) {
      const start = rowStart + off;
      const end = rowStart + Math.min(rows, off + step);
      shards.push({
        kind: 'parquet',
        id: `${idBase}-rg${g}${split ? `-${off}` : ''}`,
        file,
        rowGroup: g,
        rowStart: start,
        rowEnd: end,
        lineStart: start + 1,
        lineEnd: end + 1,
        records: end - start,
      });
    }
  });
  return shards;
}

/** `<prefix><file stem>-<sha1 of the path as given, 8 hex>`, as planFileShards. */
function shardIdBase(file: string, prefix: string): string {
  const tag = createHash('sha1').update(file).digest('hex').slice(0, 8);
  const stem = path
    .basename(file)
    .replace(PARQUET_FILE, '')
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 40);
  return `${prefix}${stem}-${tag}`;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ParquetRecordOptions extends RecordOptions {
  /** A footer already read (by planning or an earlier shard of the same file). */
  footer?: ParquetFooter;
  /**
   * When the row group cannot be decoded: `throw` (default) the CorruptInputError, or
   * `reject` every row of the shard with the error's reason (counts still balance).
   */
  onCorrupt?: 'throw' | 'reject';
}

/**
 * The records of one Parquet shard in row order. `line` is the 1-based row number in the file;
 * `ordinal` counts rows within the shard. Records are validated like JSONL ones (same reasons:
 * missing_text for a null text, text_not_string, empty_text, too_large, bad_id,
 * invalid_utf8); a null id falls back to `<shardId>:<row>`. A file without the text column
 * yields every row rejected as `missing_text_column`.
 *
 * Memory: hyparquet reads the shard's text (and id) column chunks in one `slice` each (the
 * compressed chunk, or only the needed pages when the shard is part of a row group and the
 * file has an offset index), decompresses page by page and decodes every value of the range to
 * a JS string before the first record is yielded. Peak is about compressed chunk + decoded
 * text of the shard + one page; consumed values are released as records are yielded.
 */
export async function* readParquetShard(spec: ParquetShardSpec, source: ByteSource, opts: ParquetRecordOptions): AsyncGenerator<ShardItem> {
  const n = spec.rowEnd - spec.rowStart;
  let texts: unknown[] | undefined;
  let ids: unknown[] | undefined;
  let missing: string[] | undefined;
  try {
    const footer = opts.footer ?? (await readParquetFooter(spec.file, source));
    checkSpec(spec, footer);
    if (!footer.columns.includes(opts.textField)) missing = footer.columns;
    else {
      const withId = opts.idField !== opts.textField && footer.columns.includes(opts.idField);
      const cols = await readColumns(spec, source, footer.metadata, withId ? [opts.textField, opts.idField] : [opts.textField]);
      texts = cols.get(opts.textField);
      ids = withId ? cols.get(opts.idField) : opts.idField === opts.textField ? texts : undefined;
    }
  } catch (err) {
    if (!isCorruptInput(err) || opts.onCorrupt !== 'reject') throw err;
    yield* corruptItems(spec, err);
    return;
  }
  for (let i = 0; i < n; i++) {
    const line = spec.rowStart + i + 1;
    if (missing) {
      const bad = new BadInputError(
        'missing_text_column',
        `row ${line}: ${spec.file} has no column "${opts.textField}" (columns: ${missing.join(', ')})`,
      );
      yield { line, ordinal: i, bad };
      continue;
    }
    let item: ShardItem;
    try {
      item = { line, ordinal: i, doc: toDoc(texts![i], ids?.[i], line, opts) };
    } catch (err) {
      if ((err as Error).name !== 'BadInputError') throw err;
      item = { line, ordinal: i, bad: err as BadInputError };
    }
    // let the consumed strings go while later records are processed
    texts![i] = undefined;
    if (ids) ids[i] = undefined;
    yield item;
  }
}

/** Every row of the shard (at least one item) rejected with the error's reason. */
function* corruptItems(spec: ParquetShardSpec, err: CorruptInputError): Generator<ShardItem> {
  for (let i = 0; i < Math.max(1, spec.rowEnd - spec.rowStart); i++) {
    const line = spec.rowStart + i + 1;
    yield { line, ordinal: i, bad: new BadInputError(err.reason, `row ${line}: ${err.message}`) };
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points for inputs.ts / shard-reader.ts (local paths and s3:// URIs)

export const PARQUET_FILE = /\.parquet$/i;

/**
 * planFileShards' counterpart for a Parquet input file (local or s3://): footer only, one
 * shard per row group, groups over `shardDocs` rows split. A file whose footer cannot be read
 * (truncated, not Parquet, unreadable) gives one empty placeholder shard, like a broken JSONL
 * file: reading it yields one reject with the reason (truncated_file, corrupt_file, ...). A
 * 0-byte file gives no shard (no records).
 */
export async function planParquetFile(file: string, shardDocs = Infinity, prefix = ''): Promise<ParquetShardSpec[]> {
  let src: (ByteSource & { close(): Promise<void> }) | undefined;
  try {
    src = await openParquetSource(file);
    // an empty (0-byte) file holds no records, like an empty JSONL file; it is not a broken one
    if (src.byteLength === 0) return [];
    return await planParquetShards(file, src, prefix, shardDocs);
  } catch (err) {
    if (!isCorruptInput(err)) throw err;
    return [
      {
        kind: 'parquet',
        id: `${shardIdBase(file, prefix)}-unreadable`,
        file,
        rowGroup: 0,
        rowStart: 0,
        rowEnd: 0,
        lineStart: 1,
        lineEnd: 1,
        records: 0,
      },
    ];
  } finally {
    await src?.close();
  }
}

/**
 * readShard's counterpart for a Parquet shard (local or s3://): opens the file, reads it with
 * `onCorrupt: 'reject'` (a broken row group or file becomes rejects, never a thrown error),
 * closes the file.
 */
export async function* readParquetFileShard(spec: ParquetShardSpec, opts: Omit<RecordOptions, 'shardId'>): AsyncGenerator<ShardItem> {
  let src: (ByteSource & { close(): Promise<void> }) | undefined;
  try {
    src = await openParquetSource(spec.file);
  } catch (err) {
    if (!isCorruptInput(err)) throw err;
    yield* corruptItems(spec, err);
    return;
  }
  try {
    yield* readParquetShard(spec, src, { ...opts, shardId: spec.id, onCorrupt: 'reject' });
  } finally {
    await src.close();
  }
}

/** Validates one row like parseRecord validates one JSONL record; throws BadInputError. */
function toDoc(text: unknown, idv: unknown, line: number, o: RecordOptions): DocRecord {
  const f = o.textField;
  if (text === undefined || text === null) throw new BadInputError('missing_text', `row ${line}: field "${f}" is null`);
  if (text === INVALID_UTF8) throw new BadInputError('invalid_utf8', `row ${line}: field "${f}": invalid UTF-8`);
  if (typeof text !== 'string') throw new BadInputError('text_not_string', `row ${line}: field "${f}" is not a string (${typeof text})`);
  if (!/\S/.test(text)) throw new BadInputError('empty_text', `row ${line}: field "${f}" is empty`);
  if (text.length > o.maxRecordChars)
    throw new BadInputError('too_large', `row ${line}: field "${f}" is over ${o.maxRecordChars} characters`);
  let id: string;
  if (idv === undefined || idv === null) id = `${o.shardId}:${line}`;
  else if (typeof idv === 'string' || typeof idv === 'number' || typeof idv === 'bigint') id = String(idv);
  else if (idv === INVALID_UTF8) throw new BadInputError('invalid_utf8', `row ${line}: field "${o.idField}": invalid UTF-8`);
  else throw new BadInputError('bad_id', `row ${line}: field "${o.idField}" must be a string or number`);
  return { id, text };
}

function checkSpec(spec: ParquetShardSpec, footer: ParquetFooter): void {
  const g = footer.rowGroups[spec.rowGroup];
  if (!g || spec.rowStart < g.rowStart || spec.rowEnd > g.rowStart + g.rows || spec.rowEnd < spec.rowStart) {
    const has = g
      ? `row group ${spec.rowGroup} holds rows [${g.rowStart}, ${g.rowStart + g.rows})`
      : `it has ${footer.rowGroups.length} row groups`;
    throw new PermanentError(
      `${spec.file}: changed since planning: shard ${spec.id} wants rows [${spec.rowStart}, ${spec.rowEnd}) of row group ${spec.rowGroup}, ${has}`,
    );
  }
}

/** Decodes `columns` over the shard's rows; each array has exactly rowEnd - rowStart values. */
async function readColumns(
  spec: ParquetShardSpec,
  source: ByteSource,
  metadata: FileMetaData,
  columns: string[],
): Promise<Map<string, unknown[]>> {
  const n = spec.rowEnd - spec.rowStart;
  const out = new Map<string, unknown[]>(columns.map((c) => [c, new Array<unknown>(n)]));
  const filled = new Map<string, number>(columns.map((c) => [c, 0]));
  if (n === 0) return out;
  try {
    await parquetRead({
      file: guard(source),
      metadata,
      columns,
      rowStart: spec.rowStart,
      rowEnd: spec.rowEnd,
      compressors: COMPRESSORS,
      parsers: PARSERS,
      // fetch only the pages of a sub-range of a row group (when the file has an offset index)
      useOffsetIndex: true,
      // column-wise delivery: no row objects, no transposition
      onChunk({ columnName, columnData, rowStart, rowEnd }) {
        const arr = out.get(columnName);
        if (!arr) return;
        const from = Math.max(rowStart, spec.rowStart);
        const to = Math.min(rowEnd, spec.rowEnd);
        for (let r = from; r < to; r++) arr[r - spec.rowStart] = columnData[r - rowStart];
        if (to > from) filled.set(columnName, filled.get(columnName)! + (to - from));
      },
    });
  } catch (err) {
    throw classify(err, spec.file, `row group ${spec.rowGroup}`);
  }
  for (const c of columns) {
    if (filled.get(c) !== n) {
      throw new CorruptInputError(
        spec.file,
        'corrupt_file',
        `${spec.file}: row group ${spec.rowGroup}: column "${c}" decoded ${filled.get(c)} of ${n} rows`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// hyparquet plumbing

/** Marks a string value whose bytes are not valid UTF-8 (hyparquet would replace them). */
const INVALID_UTF8: unique symbol = Symbol('invalid UTF-8');
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const PARSERS = {
  stringFromBytes(bytes: Uint8Array | undefined): unknown {
    if (!bytes) return bytes;
    try {
      return fatalUtf8.decode(bytes);
    } catch {
      return INVALID_UTF8;
    }
  },
};

/**
 * hyparquet-compressors for every codec, with native zlib / zstd-napi for GZIP and ZSTD (the JS
 * ones are several times slower); the JS decoder is the fallback if the native one refuses.
 */
const COMPRESSORS: Compressors = {
  ...jsCompressors,
  GZIP: (input, outputLength) => {
    try {
      return gunzipSync(input);
    } catch {
      return jsCompressors.GZIP!(input, outputLength);
    }
  },
  ZSTD: (input, outputLength) => {
    try {
      return zstdDecompress(input);
    } catch {
      return jsCompressors.ZSTD!(input, outputLength);
    }
  },
};

/** Errors from the source itself (I/O, S3) pass through classify() unchanged. */
const sourceErrors = new WeakSet<object>();

function guard(source: ByteSource): AsyncBuffer {
  return {
    byteLength: source.byteLength,
    async slice(start: number, end?: number) {
      try {
        return await source.slice(start, end);
      } catch (err) {
        if (typeof err === 'object' && err !== null) sourceErrors.add(err);
        throw err;
      }
    },
  };
}

function classify(err: unknown, file: string, where: 'footer' | string): unknown {
  if (isCorruptInput(err)) return err;
  if (typeof err === 'object' && err !== null && sourceErrors.has(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  let reason = 'corrupt_file';
  if (/unsupported|not supported/i.test(msg)) reason = 'unsupported_file';
  else if (where === 'footer' && /PAR1|too short|exceeds available|outside the bounds|out of range/i.test(msg)) reason = 'truncated_file';
  const what = where === 'footer' ? 'not a readable Parquet file (footer)' : `${where} cannot be decoded`;
  return new CorruptInputError(file, reason, `${file}: ${what}: ${msg}`, { cause: err });
}
