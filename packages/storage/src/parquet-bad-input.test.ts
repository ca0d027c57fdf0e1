import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RetryableError } from '@nextlong/core';
import { docColumns, writeParquetFixture } from '../../testing/src/parquet-fixture.js';
import {
  type ByteSource,
  CorruptInputError,
  isCorruptInput,
  localFileSource,
  planParquetShards,
  rangeSource,
  readParquetFooter,
  readParquetShard,
} from './parquet-reader.js';
import type { ShardItem } from './shard-reader.js';
import { base, type Doc, docsOf, parquetWorkspace, readAll, reasonsOf } from './test-support.js';

let docs: Doc[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => ({ docs, dir, cleanup } = await parquetWorkspace()));
afterAll(() => cleanup());

describe('readParquetShard: bad records', () => {
  test('nulls, empty and blank strings, too large text, null and bad ids: same reasons as JSONL', async () => {
    const file = path.join(dir, 'bad.parquet');
    const texts: (string | null)[] = ['good one', null, '', ' \n\t ', 'x'.repeat(5000), 'good two', 'good three'];
    const ids: (string | null)[] = ['a', 'b', 'c', 'd', 'e', null, 'g'];
    await writeParquetFixture(file, {
      columns: [
        { name: 'text', data: texts, type: 'STRING' },
        { name: 'id', data: ids, type: 'STRING' },
      ],
      rowGroupSize: 4,
    });
    const { shards, items } = await readAll(file, { maxRecordChars: 4000 });
    expect(reasonsOf(items)).toEqual(['ok', 'missing_text', 'empty_text', 'empty_text', 'too_large', 'ok', 'ok']);
    expect(docsOf(items)[5]).toEqual({ id: `${shards[1]!.id}:6`, text: 'good two' });
    const bad = items[1]!.item as { bad: Error & { reason: string } };
    expect(bad.bad.name).toBe('BadInputError');
    expect(bad.bad.message).toBe('row 2: field "text" is null');
  });

  test('a non-string text column: every row is text_not_string; a boolean id column: bad_id', async () => {
    const file = path.join(dir, 'types.parquet');
    await writeParquetFixture(file, {
      columns: [
        { name: 'text', data: [1, 2, 3], type: 'INT32' },
        { name: 'body', data: ['a', 'b', 'c'], type: 'STRING' },
        { name: 'flag', data: [true, false, null], type: 'BOOLEAN' },
        { name: 'num', data: [1.5, 2, null], type: 'DOUBLE' },
      ],
    });
    expect(reasonsOf((await readAll(file)).items)).toEqual(['text_not_string', 'text_not_string', 'text_not_string']);
    const r = await readAll(file, { textField: 'body', idField: 'flag' });
    expect(reasonsOf(r.items)).toEqual(['bad_id', 'bad_id', 'ok']);
    const n = await readAll(file, { textField: 'body', idField: 'num' });
    expect(docsOf(n.items).map((d) => d!.id)).toEqual(['1.5', '2', `${n.shards[0]!.id}:3`]);
  });

  test('invalid UTF-8 in an unannotated BYTE_ARRAY text column: invalid_utf8 (not silently replaced)', async () => {
    const file = path.join(dir, 'bytes.parquet');
    const enc = new TextEncoder();
    await writeParquetFixture(file, {
      columns: [
        {
          name: 'text',
          data: [enc.encode('fine ✓'), new Uint8Array([0x61, 0xff, 0xfe, 0x62]), enc.encode('also fine')],
          type: 'BYTE_ARRAY',
        },
        { name: 'id', data: [enc.encode('i1'), enc.encode('i2'), new Uint8Array([0xc3])], type: 'BYTE_ARRAY' },
      ],
    });
    const { items } = await readAll(file);
    expect(reasonsOf(items)).toEqual(['ok', 'invalid_utf8', 'invalid_utf8']);
    expect(docsOf(items)[0]).toEqual({ id: 'i1', text: 'fine ✓' });
  });

  test('a file without the text column: shards are planned, every row is rejected as missing_text_column', async () => {
    const file = path.join(dir, 'notext.parquet');
    await writeParquetFixture(file, {
      columns: [
        { name: 'id', data: docs.map((d) => d.id), type: 'STRING' },
        { name: 'content', data: docs.map((d) => d.text), type: 'STRING' },
      ],
      rowGroupSize: 25,
    });
    const { shards, items } = await readAll(file);
    expect(shards.reduce((a, s) => a + s.records, 0)).toBe(80);
    expect(items).toHaveLength(80);
    expect(new Set(reasonsOf(items))).toEqual(new Set(['missing_text_column']));
    expect((items[0]!.item as { bad: Error }).bad.message).toBe(`row 1: ${file} has no column "text" (columns: id, content)`);
  });
});

describe('unreadable Parquet files', () => {
  let good: string;
  beforeAll(async () => {
    good = path.join(dir, 'good.parquet');
    await writeParquetFixture(good, { columns: docColumns(docs), rowGroupSize: 25 });
  });

  test('a truncated file (footer cut) is a CorruptInputError naming the file', async () => {
    const file = path.join(dir, 'cut.parquet');
    const bytes = await readFile(good);
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const src = await localFileSource(file);
    const err = await planParquetShards(file, src).catch((e: unknown) => e);
    await src.close();
    expect(err).toBeInstanceOf(CorruptInputError);
    expect(isCorruptInput(err)).toBe(true);
    expect(err).toMatchObject({ name: 'CorruptInputError', file, reason: 'truncated_file' });
    expect((err as Error).message).toContain(file);
  });

  test.each([
    ['empty', Buffer.alloc(0)],
    ['tiny', Buffer.from('PAR1')],
    ['jsonl renamed', Buffer.from('{"id": "a", "text": "not parquet"}\n')],
  ])('%s file: CorruptInputError', async (name, bytes) => {
    const file = path.join(dir, `${name.replace(/ /g, '_')}.parquet`);
    await writeFile(file, bytes);
    const src = await localFileSource(file);
    await expect(planParquetShards(file, src)).rejects.toMatchObject({ name: 'CorruptInputError', file, reason: 'truncated_file' });
    await src.close();
  });

  test('a missing file: CorruptInputError unreadable_file', async () => {
    const file = path.join(dir, 'nope.parquet');
    await expect(localFileSource(file)).rejects.toMatchObject({ name: 'CorruptInputError', file, reason: 'unreadable_file' });
  });

  test('corrupt pages with an intact footer: the shard throws, or rejects every row with onCorrupt: reject', async () => {
    const file = path.join(dir, 'garbled.parquet');
    const bytes = Buffer.from(await readFile(good));
    const src0 = await localFileSource(good);
    const footer = await readParquetFooter(good, src0);
    await src0.close();
    const m = footer.metadata.row_groups[2]!.columns[0]!.meta_data!; // text of row group 2
    const start = Number(m.dictionary_page_offset || m.data_page_offset);
    for (let i = start; i < start + Number(m.total_compressed_size); i++) bytes[i] = (i * 131 + 7) & 0xff;
    await writeFile(file, bytes);

    const src = await localFileSource(file);
    const shards = await planParquetShards(file, src);
    const seen: ShardItem[] = [];
    const err = await (async () => {
      for await (const it of readParquetShard(shards[2]!, src, { ...base, shardId: shards[2]!.id })) seen.push(it);
    })().catch((e: unknown) => e);
    expect(seen).toHaveLength(0);
    expect(err).toMatchObject({ name: 'CorruptInputError', file, reason: 'corrupt_file' });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('row group 2');

    const rejected: ShardItem[] = [];
    for await (const it of readParquetShard(shards[2]!, src, { ...base, shardId: shards[2]!.id, onCorrupt: 'reject' })) rejected.push(it);
    expect(rejected.map((it) => [it.line, 'bad' in it ? it.bad.reason : 'ok'])).toEqual(
      Array.from({ length: 25 }, (_, i) => [51 + i, 'corrupt_file']),
    );
    // the other row groups are fine
    const ok: ShardItem[] = [];
    for await (const it of readParquetShard(shards[1]!, src, { ...base, shardId: shards[1]!.id })) ok.push(it);
    expect(ok.map((it) => ('doc' in it ? it.doc : it))).toEqual(docs.slice(25, 50));
    await src.close();
  });

  test('a file that shrank after planning: truncated_file; a shard that no longer matches the footer: PermanentError', async () => {
    const file = path.join(dir, 'shrinks.parquet');
    await writeFile(file, await readFile(good));
    const src = await localFileSource(file);
    const footer = await readParquetFooter(file, src);
    const shards = await planParquetShards(file, src);
    const m = footer.metadata.row_groups[3]!.columns[0]!.meta_data!;
    await truncate(file, Number(m.dictionary_page_offset || m.data_page_offset) + 10);
    await expect(readParquetShard(shards[3]!, src, { ...base, shardId: 'x', footer }).next()).rejects.toMatchObject({
      name: 'CorruptInputError',
      reason: 'truncated_file',
    });
    await src.close();
    const src2 = await localFileSource(good);
    const wrong = { ...shards[3]!, rowGroup: 7 };
    await expect(readParquetShard(wrong, src2, { ...base, shardId: 'x' }).next()).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('changed since planning'),
    });
    await src2.close();
  });

  test('errors of the source itself pass through unchanged (an S3 RetryableError stays retryable)', async () => {
    const local = await localFileSource(good);
    const footer = await readParquetFooter(good, local);
    const shards = await planParquetShards(good, local);
    const flaky: ByteSource = rangeSource(local.byteLength, async () => {
      throw new RetryableError('S3 GetObject: 503 SlowDown');
    });
    await expect(readParquetShard(shards[0]!, flaky, { ...base, shardId: 'x', footer, onCorrupt: 'reject' }).next()).rejects.toMatchObject({
      name: 'RetryableError',
    });
    await expect(planParquetShards(good, flaky)).rejects.toMatchObject({ name: 'RetryableError' });
    await local.close();
  });
});
