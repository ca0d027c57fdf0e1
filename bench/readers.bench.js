/**
 * (f) Corpus readers: MB of document text per second through our shard readers against the
 * raw decompression of the same file, for JSONL.zst and Parquet (zstd pages, row groups of
 * 1000 rows). Memory: heap growth while reading the file once vs four times as large (the
 * readers stream; growth must not follow the file size).
 * Text: the shared corpus when present, else the test fixture (see lib/corpus.js). Scale with
 * BENCH_READERS_COPIES=<n> (default 2 copies of the corpus per file).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { DecompressStream, compress } from 'zstd-napi';
import { planFileShards, readShard } from '@nextlong/storage';
import { docColumns, writeParquetFixture } from '@nextlong/testing';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const COPIES = Number(process.env.BENCH_READERS_COPIES || 2);
const OPTS = { textField: 'text', idField: 'id', maxRecordChars: 5_000_000 };

async function readAll(file, shards) {
  let chars = 0;
  for (const shard of shards ?? (await planFileShards(file, 1e9))) {
    for await (const item of readShard(shard, OPTS)) if ('doc' in item) chars += Buffer.byteLength(item.doc.text);
  }
  return chars / 1e6;
}

async function rawZstd(file) {
  let n = 0;
  for await (const chunk of createReadStream(file).pipe(new DecompressStream())) n += chunk.length;
  return n;
}

/** hyparquet decoding the same text column with the same codecs: the Parquet "raw" read. */
async function rawParquet(file) {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  let n = 0;
  await parquetRead({ file: ab, columns: ['text'], compressors, onComplete: (rows) => rows.forEach((r) => (n += Buffer.byteLength(r[0]))) });
  return n / 1e6;
}

function heapGrowth(fn) {
  return async () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
    await fn();
    clearInterval(t);
    return (peak - before) / 1e6;
  };
}

export default async function readersBench({ corpus }) {
  const { docs } = await corpus();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextlong-bench-readers-'));
  const rows = [];
  for (let c = 0; c < COPIES; c++) for (const d of docs) rows.push({ id: `${c}/${d.id}`, text: d.text });
  const jsonl = Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const zst = path.join(dir, 'docs.jsonl.zst');
  writeFileSync(zst, compress(jsonl));
  const pq = path.join(dir, 'docs.parquet');
  await writeParquetFixture(pq, { columns: docColumns(rows), codec: 'ZSTD', rowGroupSize: 1000 });
  const textMB = rows.reduce((a, r) => a + Buffer.byteLength(r.text), 0) / 1e6;
  // memory: the same reader over 1× and 4× the file
  const big = path.join(dir, 'big.jsonl.zst');
  writeFileSync(big, compress(Buffer.concat([jsonl, jsonl, jsonl, jsonl])));
  const g1 = await heapGrowth(() => readAll(zst))();
  const g4 = await heapGrowth(() => readAll(big))();
  const zstShards = await planFileShards(zst, 1e9);
  const pqShards = await planFileShards(pq, 1e9);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return {
    title: 'readers: MB of text/s through the shard readers vs raw decompression',
    note: `raw = decompressed JSONL bytes (text + JSON syntax); ${rows.length} documents, ${textMB.toFixed(1)} MB of text; heap growth reading JSONL.zst 1× ${g1.toFixed(0)} MB, 4× ${g4.toFixed(0)} MB (flat = streaming)`,
    runs: 3,
    warmup: 1,
    cases: [
      { name: 'raw zstd decompress of the .jsonl.zst (MB out)', unit: 'MB', baseline: true, run: async () => (await rawZstd(zst)) / 1e6 },
      { name: 'readShard JSONL.zst (MB of text)', unit: 'MB', run: () => readAll(zst, zstShards) },
      { name: 'plan (line scan) + readShard JSONL.zst', unit: 'MB', run: () => readAll(zst) },
      { name: 'hyparquet decode of the text column (MB of text)', unit: 'MB', run: () => rawParquet(pq) },
      { name: 'readShard Parquet zstd (MB of text)', unit: 'MB', run: () => readAll(pq, pqShards) },
    ],
  };
}
