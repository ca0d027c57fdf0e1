import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type S3rverHandle, startS3rver } from '@nextlong/testing';
import { docColumns, writeParquetFixture } from '../../testing/src/parquet-fixture.js';
import { CorruptInputError, localFileSource, planParquetFile, rangeSource, readParquetFileShard } from './parquet-reader.js';
import { S3ObjectStore } from './s3-store.js';
import type { ShardItem } from './shard-reader.js';
import { base, type Doc, parquetWorkspace } from './test-support.js';

let docs: Doc[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => ({ docs, dir, cleanup } = await parquetWorkspace()));
afterAll(() => cleanup());

describe('local-file entry points (for inputs.ts / shard-reader.ts)', () => {
  test('planParquetFile + readParquetFileShard: good file; broken file is one placeholder shard and one reject', async () => {
    const good = path.join(dir, 'entry.parquet');
    await writeParquetFixture(good, { columns: docColumns(docs), rowGroupSize: 30 });
    const shards = await planParquetFile(good, 2000, 'in-');
    expect(shards.map((s) => [s.id.replace(/-[0-9a-f]{8}-/, '-H-'), s.records])).toEqual([
      ['in-entry-H-rg0', 30],
      ['in-entry-H-rg1', 30],
      ['in-entry-H-rg2', 20],
    ]);
    expect((await planParquetFile(good, 20)).map((s) => s.records)).toEqual([20, 10, 20, 10, 20]);
    const got: Doc[] = [];
    for (const s of shards) for await (const it of readParquetFileShard(s, base)) if ('doc' in it) got.push(it.doc);
    expect(got).toEqual(docs);

    const cut = path.join(dir, 'entry-cut.parquet');
    const bytes = await readFile(good);
    await writeFile(cut, bytes.subarray(0, bytes.length - 20));
    const broken = await planParquetFile(cut, 2000);
    expect(broken).toEqual([
      expect.objectContaining({ kind: 'parquet', file: cut, records: 0, id: expect.stringMatching(/^entry-cut-[0-9a-f]{8}-unreadable$/) }),
    ]);
    const items: ShardItem[] = [];
    for await (const it of readParquetFileShard(broken[0]!, base)) items.push(it);
    expect(items.map((it) => [it.line, it.ordinal, 'bad' in it ? it.bad.reason : 'ok'])).toEqual([[1, 0, 'truncated_file']]);
    expect((items[0] as { bad: Error }).bad.message).toContain(cut);

    // deleted after planning: every planned row is rejected as unreadable_file
    const gone = path.join(dir, 'entry-gone.parquet');
    await writeFile(gone, bytes);
    const goneShards = await planParquetFile(gone, 2000);
    await rm(gone);
    const goneItems: ShardItem[] = [];
    for await (const it of readParquetFileShard(goneShards[2]!, base)) goneItems.push(it);
    expect(goneItems).toHaveLength(20);
    expect(new Set(goneItems.map((it) => ('bad' in it ? it.bad.reason : 'ok')))).toEqual(new Set(['unreadable_file']));
    expect(goneItems[0]!.line).toBe(61);
  });
});

describe('s3:// inputs (s3rver)', () => {
  let s3: S3rverHandle;
  const saved = { ...process.env };
  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['pqt'] });
    Object.assign(process.env, s3.env); // bucketStore() reads the standard AWS_* environment
  });
  afterAll(async () => {
    process.env = saved;
    await s3.stop();
  });

  test('plan and read through ranged GETs; a cut object is one truncated_file reject', async () => {
    const local = path.join(dir, 's3src.parquet');
    await writeParquetFixture(local, { columns: docColumns(docs), codec: 'ZSTD', rowGroupSize: 25 });
    const bytes = await readFile(local);
    const store = new S3ObjectStore('s3://pqt');
    await store.put('corpus/docs.parquet', bytes);
    await store.put('corpus/cut.parquet', bytes.subarray(0, 5000));

    const uri = 's3://pqt/corpus/docs.parquet';
    const shards = await planParquetFile(uri, 2000);
    expect(shards.map((s) => s.records)).toEqual([25, 25, 25, 5]);
    expect(shards[0]!.id).toMatch(/^docs-[0-9a-f]{8}-rg0$/);
    const got: Doc[] = [];
    for (const s of shards) for await (const it of readParquetFileShard(s, base)) if ('doc' in it) got.push(it.doc);
    expect(got).toEqual(docs);

    const cut = await planParquetFile('s3://pqt/corpus/cut.parquet', 2000);
    const items: ShardItem[] = [];
    for await (const it of readParquetFileShard(cut[0]!, base)) items.push(it);
    expect(items.map((it) => ('bad' in it ? [it.line, it.bad.reason] : 'ok'))).toEqual([[1, 'truncated_file']]);
    expect((items[0] as { bad: Error }).bad.message).toContain('s3://pqt/corpus/cut.parquet');

    // a missing object is the store's PermanentError, not a reject
    await expect(planParquetFile('s3://pqt/corpus/none.parquet', 2000)).rejects.toMatchObject({ name: 'PermanentError' });
  });
});

describe('byte sources', () => {
  test('localFileSource: positional slices equal the file bytes; rangeSource checks lengths', async () => {
    const file = path.join(dir, 'bytes.bin');
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
    await writeFile(file, data);
    const src = await localFileSource(file);
    expect(src.byteLength).toBe(100_000);
    for (const [s, e] of [
      [0, 10],
      [99_990, 100_000],
      [12_345, 67_890],
      [5, 5],
    ] as const) {
      expect(Buffer.from(await src.slice(s, e))).toEqual(data.subarray(s, e));
    }
    expect(Buffer.from(await src.slice(99_000))).toEqual(data.subarray(99_000));
    await expect(src.slice(0, 100_001)).rejects.toMatchObject({ name: 'CorruptInputError' });
    await src.close();
    await src.close();

    const short = rangeSource(10, async (s, e) => new Uint8Array(e - s - 1), 's3://b/k.parquet');
    await expect(short.slice(0, 10)).rejects.toMatchObject({
      name: 'CorruptInputError',
      file: 's3://b/k.parquet',
      reason: 'truncated_file',
    });
    // a Node Buffer from a shared pool is copied to an exact ArrayBuffer
    const pooled = rangeSource(4, async () => Buffer.from('abcd'));
    const ab = await pooled.slice(0, 4);
    expect(ab.byteLength).toBe(4);
    expect(Buffer.from(ab).toString()).toBe('abcd');
  });
});
