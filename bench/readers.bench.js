/**
 * (f) Corpus readers: MB of document text per second through our shard readers against the
 * raw decompression of the same file, for JSONL.zst and Parquet (zstd pages, row groups of
 * 1000 rows). Memory: heap growth while reading the file once vs four times as large (the
 * readers stream; growth must not follow the file size).
 * Read amplification: a multi-frame .jsonl.zst (4 MiB frames, as pzstd writes) planned into
 * ≥ 8 shards; the note gives the bytes all shards decompress ÷ the file's decompressed size
 * (goal ≤ 1.2). BENCH_READERS_FRAMES_MB=<n> sets its decompressed size (default 256, scaled
 * down from the 1024 for this machine); it is written once to the OS temp folder and kept.
 * Text: the shared corpus when present, else the test fixture (see lib/corpus.js). Scale with
 * BENCH_READERS_COPIES=<n> (default 2 copies of the corpus per file).
 */
import { existsSync, mkdtempSync, openSync, closeSync, renameSync, rmSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { DecompressStream, compress } from 'zstd-napi';
import { decodeUtf8, openInput, planFileShards, PlanThreads, readLineBatches, readShard, recycleOutput, zstdDecompressed } from '@nextlong/storage';
import { docColumns, writeParquetFixture } from '@nextlong/testing';
import { parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const COPIES = Number(process.env.BENCH_READERS_COPIES || 2);
const FRAMES_MB = Number(process.env.BENCH_READERS_FRAMES_MB || 256);
const FRAME_BYTES = 4 << 20;
const MIN_SHARDS = 8;
const OPTS = { textField: 'text', idField: 'id', maxRecordChars: 5_000_000 };

/**
 * MB of document text read from `file`. With `known` (the file's text: UTF-16 length and UTF-8
 * MB, counted while writing it) each document costs O(1) here, like each chunk in rawZstd, and
 * a length that does not add up throws; without it, every text's UTF-8 length is counted.
 */
async function readAll(file, shards, known) {
  let chars = 0;
  for (const shard of shards ?? (await planFileShards(file, 1e9))) {
    for await (const item of readShard(shard, OPTS)) if ('doc' in item) chars += known ? item.doc.text.length : Buffer.byteLength(item.doc.text);
  }
  if (known && chars !== known.chars) throw new Error(`${file}: read ${chars} UTF-16 units of text, wrote ${known.chars}`);
  return known ? known.mb : chars / 1e6;
}

async function rawZstd(file) {
  let n = 0;
  for await (const chunk of createReadStream(file).pipe(new DecompressStream())) n += chunk.length;
  return n;
}

/**
 * readShard's layers without the rest, for the `part:` rows (MB of JSONL out): its decompression
 * (zstdDecompress behind openInput, output buffers recycled), then + line splitting and UTF-8
 * decoding of every line; readShard itself adds JSON.parse and the record checks.
 */
async function decompressOnly(file) {
  let n = 0;
  for await (const chunk of openInput(file)) {
    n += chunk.length;
    recycleOutput(chunk);
  }
  return n / 1e6;
}

async function linesDecoded(file) {
  let n = 0;
  for await (const batch of readLineBatches(openInput(file), 1, Infinity, recycleOutput)) {
    for (const raw of batch) if (decodeUtf8(raw.bytes) !== undefined) n += raw.bytes.length + 1;
  }
  return n / 1e6;
}

/** hyparquet decoding the same text column with the same codecs: the Parquet "raw" read. */
async function rawParquet(file) {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  let n = 0;
  await parquetRead({ file: ab, columns: ['text'], compressors, onComplete: (rows) => rows.forEach((r) => (n += Buffer.byteLength(r[0]))) });
  return n / 1e6;
}

/** A multi-frame .jsonl.zst of about `mb` MB of JSONL (the corpus repeated, new ids), cached in the temp folder. */
function multiFrameFile(docs, mb) {
  const file = path.join(os.tmpdir(), `nextlong-bench-readers-frames-${mb}mb.jsonl.zst`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  let pending = [];
  let pendingBytes = 0;
  const flush = () => {
    writeSync(fd, compress(Buffer.from(pending.join(''))));
    pending = [];
    pendingBytes = 0;
  };
  for (let c = 0; written < mb * 1e6; c++) {
    for (const d of docs) {
      const line = JSON.stringify({ id: `f${c}/${d.id}`, text: d.text }) + '\n';
      pending.push(line);
      pendingBytes += line.length;
      written += line.length;
      if (pendingBytes >= FRAME_BYTES) flush();
      if (written >= mb * 1e6) break;
    }
  }
  if (pending.length) flush();
  closeSync(fd);
  renameSync(tmp, file);
  return file;
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
  const zstText = { chars: rows.reduce((a, r) => a + r.text.length, 0), mb: textMB };
  // memory: the same reader over 1× and 4× the file
  const big = path.join(dir, 'big.jsonl.zst');
  writeFileSync(big, compress(Buffer.concat([jsonl, jsonl, jsonl, jsonl])));
  const g1 = await heapGrowth(() => readAll(zst))();
  const g4 = await heapGrowth(() => readAll(big))();
  const zstShards = await planFileShards(zst, 1e9);
  const pqShards = await planFileShards(pq, 1e9);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  // read amplification: frame shards of a multi-frame file
  const framed = multiFrameFile(docs, FRAMES_MB);
  const threads = new PlanThreads(os.availableParallelism());
  const records = (await planFileShards(framed, 1e12))[0].records;
  const planFramed = () => planFileShards(framed, Math.ceil(records / MIN_SHARDS), '', { threads, minParallelBytes: 0 });
  const framedShards = await planFramed();
  const dataBytes = await rawZstd(framed);
  let amplification = '';
  const note = () =>
    `raw = decompressed JSONL bytes (text + JSON syntax); ${rows.length} documents, ${textMB.toFixed(1)} MB of text; heap growth reading JSONL.zst 1× ${g1.toFixed(0)} MB, 4× ${g4.toFixed(0)} MB (flat = streaming). ` +
    `part: rows are the stream path's layers (decompression, then + line split and UTF-8 decode; JSON.parse and the checks come on top), in MB of JSONL; readShard reads a local .zst of ≥ 1 MiB on a thread instead (line-thread.ts: decompression, split and UTF-16 transcoding there, JSON.parse here). ` +
    `Multi-frame .jsonl.zst of ${(dataBytes / 1e6).toFixed(0)} MB (BENCH_READERS_FRAMES_MB=${FRAMES_MB}; ${framedShards.length} shards): ${amplification}`;
  return {
    title: 'readers: MB of text/s through the shard readers vs raw decompression',
    get note() {
      return note();
    },
    after: async () => {
      const before = zstdDecompressed.bytes;
      await readAll(framed, framedShards);
      const ratio = (zstdDecompressed.bytes - before) / dataBytes;
      amplification = `all shards decompress ${ratio.toFixed(3)}× the data (goal ≤ 1.2; every shard from byte 0 would be ≈ ${((framedShards.length + 1) / 2).toFixed(1)}×)`;
      await threads.close();
    },
    runs: 3,
    warmup: 1,
    cases: [
      { name: 'raw zstd decompress of the .jsonl.zst (MB out)', unit: 'MB', baseline: true, run: async () => (await rawZstd(zst)) / 1e6 },
      { name: 'readShard JSONL.zst (MB of text)', unit: 'MB', goal: 0.7, run: () => readAll(zst, zstShards, zstText) },
      { name: "part: readShard's zstd decompression alone (MB out)", unit: 'MB', run: () => decompressOnly(zst) },
      { name: 'part: + line split + UTF-8 decode, no JSON.parse (MB out)', unit: 'MB', run: () => linesDecoded(zst) },
      { name: 'plan (line scan) + readShard JSONL.zst', unit: 'MB', run: () => readAll(zst, undefined, zstText) },
      { name: 'hyparquet decode of the text column (MB of text)', unit: 'MB', run: () => rawParquet(pq) },
      { name: 'readShard Parquet zstd (MB of text)', unit: 'MB', run: () => readAll(pq, pqShards) },
      { name: `readShard ${framedShards.length} frame shards of the multi-frame .jsonl.zst (MB of text)`, unit: 'MB', run: () => readAll(framed, framedShards) },
      { name: 'plan the multi-frame .jsonl.zst on plan threads (MB of JSONL)', unit: 'MB', run: async () => (await planFramed(), dataBytes / 1e6) },
    ],
  };
}
