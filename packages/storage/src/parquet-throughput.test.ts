import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { docColumns, writeParquetFixture } from '../../testing/src/parquet-fixture.js';
import { localFileSource, planParquetShards, readParquetShard } from './parquet-reader.js';
import { base, type Doc, parquetWorkspace } from './test-support.js';

let docs: Doc[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => ({ docs, dir, cleanup } = await parquetWorkspace()));
afterAll(() => cleanup());

// Throughput, opt-in: NEXTLONG_PARQUET_BENCH=1 (prints MB of UTF-8 text per second).
const bench = process.env.NEXTLONG_PARQUET_BENCH ? describe : describe.skip;
bench('throughput (NEXTLONG_PARQUET_BENCH=1)', () => {
  test('read vs raw decompression vs JSONL', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const { compress, decompress } = await import('zstd-napi');
    const { compressors: js } = await import('hyparquet-compressors');
    const { snappyUncompress } = await import('hyparquet');
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const { planFileShards } = await import('./inputs.js');
    const { readShard } = await import('./shard-reader.js');
    const reps = Number(process.env.NEXTLONG_PARQUET_BENCH_REPS ?? 64);
    const rowGroupSize = Number(process.env.NEXTLONG_PARQUET_BENCH_RG ?? 1000);
    const big: Doc[] = [];
    for (let r = 0; r < reps; r++) for (const d of docs) big.push({ id: `${d.id}#${r}`, text: `[${r}] ${d.text}` }); // unique: no dictionary
    const textBytes = big.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
    const mb = textBytes / 1e6;
    const out: string[] = [`${big.length} docs, ${mb.toFixed(1)} MB of text, row groups of ${rowGroupSize}`];
    const time = async (f: () => Promise<unknown> | unknown) => {
      const t = performance.now();
      await f();
      return (performance.now() - t) / 1000;
    };
    for (const codec of ['SNAPPY', 'ZSTD', 'GZIP'] as const) {
      const file = path.join(dir, `bench-${codec}.parquet`);
      let size = 0;
      const tw = await time(async () => (size = await writeParquetFixture(file, { columns: docColumns(big), codec, rowGroupSize })));
      let n = 0;
      let peak = 0;
      const used = () => {
        const m = process.memoryUsage();
        return m.heapUsed + m.external; // external: ArrayBuffers (compressed chunk, pages)
      };
      // live memory right after each shard's first record (its whole text is decoded then)
      const measureRead = async (measure: boolean) => {
        n = 0;
        gc();
        const before = used();
        const src = await localFileSource(file);
        for (const s of await planParquetShards(file, src)) {
          let first = measure;
          for await (const it of readParquetShard(s, src, { ...base, shardId: s.id })) {
            if ('doc' in it) n++;
            if (first) {
              gc();
              peak = Math.max(peak, used() - before);
              first = false;
            }
          }
        }
        await src.close();
      };
      const read = () => measureRead(false);
      await read(); // warm-up (JIT, page cache)
      const tr = await time(read);
      expect(n).toBe(big.length);
      await measureRead(true);
      out.push(
        `${codec}: file ${(size / 1e6).toFixed(1)} MB (written in ${tw.toFixed(1)} s); read ${(mb / tr).toFixed(0)} MB/s; live memory at a row group's first record ≤ ${(peak / 1e6).toFixed(0)} MB`,
      );
    }
    // raw codec speed on the same text in 1 MiB pages (what a page decode costs before strings)
    const all = Buffer.from(big.map((d) => d.text).join(''));
    const pages: Buffer[] = [];
    for (let i = 0; i < all.length; i += 1 << 20) pages.push(all.subarray(i, i + (1 << 20)));
    const { snappyCompress } = await import('hyparquet-writer/src/snappy.js');
    const sn = pages.map((p) => snappyCompress(p) as Uint8Array);
    const zs = pages.map((p) => compress(p));
    const gz = pages.map((p) => gzipSync(p));
    const rate = (s: number) => `${(mb / s).toFixed(0)} MB/s`;
    out.push(
      `raw snappy: hysnappy wasm ${rate(await time(() => sn.forEach((c, i) => js.SNAPPY!(c, pages[i]!.length))))}, hyparquet JS ${rate(await time(() => sn.forEach((c, i) => snappyUncompress(c, new Uint8Array(pages[i]!.length)))))}`,
    );
    out.push(
      `raw zstd: zstd-napi ${rate(await time(() => zs.forEach((c) => decompress(c))))}, fzstd JS ${rate(await time(() => zs.forEach((c, i) => js.ZSTD!(c, pages[i]!.length))))}`,
    );
    out.push(
      `raw gzip: node zlib ${rate(await time(() => gz.forEach((c) => gunzipSync(c))))}, JS ${rate(await time(() => gz.forEach((c, i) => js.GZIP!(c, pages[i]!.length))))}`,
    );
    const dec = new TextDecoder('utf-8', { fatal: true });
    const enc = big.map((d) => Buffer.from(d.text));
    out.push(`UTF-8 decode alone (fatal TextDecoder per value): ${rate(await time(() => enc.forEach((b) => dec.decode(b))))}`);
    // the JSONL path on the same documents
    const jsonl = path.join(dir, 'bench.jsonl');
    await writeFile(jsonl, big.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const tj = await time(async () => {
      for (const s of await planFileShards(jsonl, 1000)) for await (const _ of readShard(s, base)) void _;
    });
    out.push(`JSONL (plain, planFileShards + readShard): ${rate(tj)}`);
    console.log(out.join('\n'));
  });
});
