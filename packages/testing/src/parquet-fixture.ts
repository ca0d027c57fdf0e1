import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { compress as zstdCompress } from 'zstd-napi';

export type ParquetFixtureCodec = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD';

export interface ParquetFixtureOptions {
  /** Columns in file order (name, values, optional hyparquet-writer basic type). */
  columns: ColumnSource[];
  codec?: ParquetFixtureCodec;
  /** Rows per row group (default 25). */
  rowGroupSize?: number;
  /** Target uncompressed page size in bytes (default 1 MiB, as pyarrow). */
  pageSize?: number;
}

/** Compressors for the codecs hyparquet-writer does not bring itself (it has SNAPPY). */
const writeCompressors = {
  GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)),
  ZSTD: (b: Uint8Array) => new Uint8Array(zstdCompress(b)),
};

/** Writes a Parquet file for tests (hyparquet-writer; gzip/zstd through node zlib / zstd-napi). */
export async function writeParquetFixture(file: string, o: ParquetFixtureOptions): Promise<number> {
  const buf = parquetWriteBuffer({
    columnData: o.columns,
    codec: o.codec ?? 'SNAPPY',
    compressors: writeCompressors,
    rowGroupSize: o.rowGroupSize ?? 25,
    pageSize: o.pageSize,
  });
  await writeFile(file, new Uint8Array(buf));
  return buf.byteLength;
}

/**
 * A FineWeb-Edu-like file from `{id, text}` documents: `text`, `id` (unless `withId` is false)
 * and two columns a reader must ignore (`url`, `score`).
 */
export function docColumns(docs: { id: string; text: string }[], withId = true): ColumnSource[] {
  const cols: ColumnSource[] = [{ name: 'text', data: docs.map((d) => d.text), type: 'STRING' }];
  if (withId) cols.push({ name: 'id', data: docs.map((d) => d.id), type: 'STRING' });
  cols.push({ name: 'url', data: docs.map((d) => `https://example.org/${encodeURIComponent(d.id)}`), type: 'STRING' });
  cols.push({ name: 'score', data: docs.map((_, i) => (i % 5) + 0.5), type: 'DOUBLE' });
  return cols;
}
