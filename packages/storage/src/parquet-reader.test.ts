import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RetryableError } from '@nextlong/core';
import { fixturePath, startS3rver, tempDir, type S3rverHandle } from '@nextlong/testing';
import { parquetMetadataAsync } from 'hyparquet';
import { docColumns, writeParquetFixture, type ParquetFixtureCodec } from '../../testing/src/parquet-fixture.js';
import {
  CorruptInputError,
  isCorruptInput,
  localFileSource,
  planParquetFile,
  planParquetShards,
  rangeSource,
  readParquetFooter,
  readParquetFileShard,
  readParquetShard,
  type ByteSource,
  type ParquetRecordOptions,
  type ParquetShardSpec,
} from './parquet-reader.js';
import { S3ObjectStore } from './s3-store.js';
import type { ShardItem } from './shard-reader.js';

interface Doc {
  id: string;
  text: string;
}

const base = { textField: 'text', idField: 'id', maxRecordChars: 1_000_000 };

let docs: Doc[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('nextlong-parquet-'));
  const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
  docs = lines.map((l) => {
    const o = JSON.parse(l) as Doc;
    return { id: o.id, text: o.text };
  });
});
afterAll(() => cleanup());

/** Plans and reads a whole file through the local source; returns the shards and the items. */
async function readAll(file: string, opts: Partial<ParquetRecordOptions> = {}, maxRows?: number) {
  const src = await localFileSource(file);
  try {
    const shards = await planParquetShards(file, src, '', maxRows);
    const items: { shard: ParquetShardSpec; item: ShardItem }[] = [];
    for (const shard of shards) {
      for await (const item of readParquetShard(shard, src, { ...base, ...opts, shardId: shard.id })) items.push({ shard, item });
    }
    return { shards, items };
  } finally {
    await src.close();
  }
}

const docsOf = (items: { item: ShardItem }[]) => items.map(({ item }) => ('doc' in item ? item.doc : undefined));
const reasonsOf = (items: { item: ShardItem }[]) => items.map(({ item }) => ('bad' in item ? item.bad.reason : 'ok'));

describe('readParquetShard: FineWeb-Edu-like files', () => {
  test.each<ParquetFixtureCodec>(['SNAPPY', 'ZSTD', 'GZIP', 'UNCOMPRESSED'])(
    '%s: all shards in order give the JSONL {id, text}',
    async (codec) => {
      const file = path.join(dir, `docs-${codec.toLowerCase()}.parquet`);
      await writeParquetFixture(file, { columns: docColumns(docs), codec, rowGroupSize: 25 });
      const src = await localFileSource(file);
      const meta = await parquetMetadataAsync(src);
      await src.close();
      expect(meta.row_groups.every((g) => g.columns.every((c) => c.meta_data!.codec === codec))).toBe(true);

      const { shards, items } = await readAll(file);
      expect(shards.map((s) => [s.rowGroup, s.rowStart, s.rowEnd, s.records, s.lineStart, s.lineEnd])).toEqual([
        [0, 0, 25, 25, 1, 26],
        [1, 25, 50, 25, 26, 51],
        [2, 50, 75, 25, 51, 76],
        [3, 75, 80, 5, 76, 81],
      ]);
      expect(shards.map((s) => s.id)).toEqual(
        shards.map((_, g) => expect.stringMatching(new RegExp(`^docs-${codec.toLowerCase()}-[0-9a-f]{8}-rg${g}$`))),
      );
      expect(docsOf(items)).toEqual(docs);
      expect(items.map(({ item }) => item.line)).toEqual(docs.map((_, i) => i + 1));
      expect(items.map(({ item }) => item.ordinal)).toEqual(docs.map((_, i) => i % 25));
    },
  );

  test('shard ids are stable, hash the path as given, and carry the prefix', async () => {
    const file = path.join(dir, 'stable.parquet');
    await writeParquetFixture(file, { columns: docColumns(docs), rowGroupSize: 40 });
    const src = await localFileSource(file);
    const a = await planParquetShards(file, src, 'pool-');
    const b = await planParquetShards(file, src, 'pool-');
    const c = await planParquetShards(path.relative(process.cwd(), file), src, 'pool-');
    await src.close();
    expect(a).toEqual(b);
    expect(a.map((s) => s.id)).toEqual([
      expect.stringMatching(/^pool-stable-[0-9a-f]{8}-rg0$/),
      expect.stringMatching(/^pool-stable-[0-9a-f]{8}-rg1$/),
    ]);
    expect(c[0]!.id).not.toBe(a[0]!.id);
  });

  test('a file without an id column gets fallback ids <shard>:<row>', async () => {
    const file = path.join(dir, 'noid.parquet');
    await writeParquetFixture(file, { columns: docColumns(docs, false), rowGroupSize: 25 });
    const { items } = await readAll(file);
    expect(docsOf(items).map((d) => d!.text)).toEqual(docs.map((d) => d.text));
    expect(docsOf(items).map((d) => d!.id)).toEqual(items.map(({ shard, item }) => `${shard.id}:${item.line}`));
    expect(docsOf(items)[30]!.id).toMatch(/^noid-[0-9a-f]{8}-rg1:31$/);
  });

  test('custom text/id fields; other columns are never fetched', async () => {
    const file = path.join(dir, 'custom.parquet');
    const n = 50;
    await writeParquetFixture(file, {
      columns: [
        { name: 'blob', data: docs.slice(0, n).map((d) => d.text.repeat(3)), type: 'STRING' },
        { name: 'content', data: docs.slice(0, n).map((d) => d.text), type: 'STRING' },
        { name: 'doc_id', data: docs.slice(0, n).map((_, i) => BigInt(1000 + i)), type: 'INT64' },
      ],
      rowGroupSize: 25,
    });
    const local = await localFileSource(file);
    const reads: [number, number][] = [];
    const counting = rangeSource(local.byteLength, async (s, e) => {
      reads.push([s, e]);
      return new Uint8Array(await local.slice(s, e));
    });
    const footer = await readParquetFooter(file, counting);
    const shards = await planParquetShards(file, counting);
    reads.length = 0;
    const items: ShardItem[] = [];
    for await (const it of readParquetShard(shards[1]!, counting, {
      ...base,
      textField: 'content',
      idField: 'doc_id',
      shardId: shards[1]!.id,
      footer,
    }))
      items.push(it);
    await local.close();
    expect(items.map((it) => ('doc' in it ? it.doc : it))).toEqual(
      docs.slice(25, 50).map((d, i) => ({ id: String(1025 + i), text: d.text })),
    );
    // only bytes of row group 1's content/doc_id chunks were read
    const g = footer.metadata.row_groups[1]!;
    const range = (name: string) => {
      const m = g.columns.find((c) => c.meta_data!.path_in_schema[0] === name)!.meta_data!;
      const s = Number(m.dictionary_page_offset || m.data_page_offset);
      return [s, s + Number(m.total_compressed_size)] as const;
    };
    const [bs, be] = range('blob');
    expect(reads.length).toBeGreaterThan(0);
    for (const [s, e] of reads) expect(e <= bs || s >= be).toBe(true);
    const [cs] = range('content');
    const [, ie] = range('doc_id');
    for (const [s, e] of reads) expect(s >= cs && e <= ie).toBe(true);
  });

  test('maxRows splits a row group; sub-range reads (offset index) still give every row once', async () => {
    const file = path.join(dir, 'split.parquet');
    // small pages so a sub-range skips whole pages
    await writeParquetFixture(file, { columns: docColumns(docs), rowGroupSize: 40, pageSize: 16_384 });
    const { shards, items } = await readAll(file, {}, 15);
    expect(shards.map((s) => [s.rowGroup, s.rowStart, s.rowEnd])).toEqual([
      [0, 0, 15],
      [0, 15, 30],
      [0, 30, 40],
      [1, 40, 55],
      [1, 55, 70],
      [1, 70, 80],
    ]);
    expect(shards.map((s) => s.id.replace(/-[0-9a-f]{8}-/, '-H-'))).toEqual([
      'split-H-rg0-0',
      'split-H-rg0-15',
      'split-H-rg0-30',
      'split-H-rg1-0',
      'split-H-rg1-15',
      'split-H-rg1-30',
    ]);
    expect(docsOf(items)).toEqual(docs);
    expect(items.map(({ item }) => item.line)).toEqual(docs.map((_, i) => i + 1));
  });
});

/**
 * A file written by another implementation (arrow-rs via parquet-wasm 0.8.0, generated once):
 * format-1 DATA_PAGE pages (hyparquet-writer only writes DATA_PAGE_V2), dictionary pages with a
 * fallback to PLAIN within one chunk, per-column codecs (text ZSTD, id GZIP, url SNAPPY),
 * 12 rows in row groups of 5. Rows: the first 9 fixture docs cut to 160 characters, with
 * {id: 'nulltext', text: null}, {id: null, text: 'no id here'}, {id: 'blank', text: '  '} at 3..5.
 */
const PARQUET_RS_V1 = [
  'UEFSMRUEFZAFFeYDTBUEFQASAAAotS/9YEgATQcAVtM2IqAlSQf/D8D+jTRpAyIl2YrchKS9yWwf/QEcP2bL7ddjQQItAC4ALQCaCoGfpDqPD7m8htZ6NiN4iyEfabWf89H6SB8FDPTI',
  'oCnDiVgjeIh6gKIoEgF49eMEiqJI4FmSa4Mxw3s+op54pWSHxS/3QTNhz3g2qES4INnik1NXCtwrGacBBQPQZccrKbt1ABPtGuAbPPVKhqmfU0zj8yXlcqshL3U8ZCzxqlSS81FhoDcB',
  'CDkk2mQmHLtyrp8MS2eLOaVbtZ71iBmMKVZ5GPPWzB1nrqiT4SGn0kcBAwBrJGF4aKaSq/YVABUSFSQsFQQVEBUGFQYAACi1L/0gCUkAAAIAAAAEAQEDAhUAFfACFa4CLBUGFQAVBhUG',
  'AAAotS/9ILh1BAACSR8gcIlz/P//+r1LURgYLclmnTPQd8o/aCRx0W0B9MCYqGQc2R16b6iqezlZfkKeqKehy+ecXZjEaZJFgiGKPSyOz7HYzRW5asOyhDXMwmArL6l+sVXv+csIPud8',
  'fREFsSxHrbnUKNiUEwoD2NPUz5L66dmxMV+kqg9BQFUBAQQAFiWjCoRqNfRQnoICFQQVngIV+gFMFQgVABIAAB+LCAAAAAAAAP9VzUEKAjEMRuEsPYN3iG1x5XHGmOkU2vwlk0G9veBC',
  'cPvg42Uiqi34AUm1hcCV4wh4W3oqmYd6bVY5nuC7Lyab7kxE8x0b7Hop5UtdV3U10dTGhEfKN/61/fw/mY6AoLNgDNiJiOzoPfQVHw4z4huPAAAAFQAVFBU8LBUKFRAVBhUGAAAfiwgA',
  'AAAAAAD/Y2JgYGDmZ2J+wgAADh3mcQoAAAAVBBWSAxXCAkwVChUAEgAAyQFQOgAAAGh0dHBzOi8veC9naXQtZG9jAQiYY29yZS10dXRvcmlhbC8xMC1tZXJnaW5nLXR3by1icmFuY2hl',
  'czcALj4AJHB5dGhvbjMuMTEFRUxyZWZlcmVuY2UvaW1wb3J0LzA5LRUUDHMkAABWeQBEcHJvdG9jb2wtY29tbW9uEgAAHShkbnVsbHRleHQOAAAAaHR0cHM6Ly94L251bGwVABUWFRos',
  'FQoVEBUGFQYAAAsoAgAAAAoBAwOIRgAVBBVQFVBMFQoVABIAAAAAAAAAAAAACgAAAAAAAAAUAAAAAAAAAB4AAAAAAAAAKAAAAAAAAAAVABUWFRYsFQoVEBUGFQYAAAIAAAAKAQMDiEYA',
  'FQQVnAUV6gNMFQYVABIAACi1L/1gTgBdBwCCDzIoYGmbAzAMg8Gehe3C3tqikbYkuDvHxQmsTP3fhwjWflmDFEsAJxBnBw/4fyb58tC2wXEeBmx1SASUv2UFiAHEVVIMYkCOp7EAsWbC',
  'paJra6XXZvfJ7VT98SMUhBl+km06gYw6HRaOI+2LrGALBIPGWmsScWyPTU1NYIuUulUQhnlCSt2YJx7v8djSyOYZ2XZSH1Lc5vdFiRrhs4TtqpDyRvIV7nul8TqbtruMvNNF6l2lTgos',
  '8s6mrfh0yhA9V7gHa63Jv9YCCAsANZuPuOEsnEZKN6exhkHgkggtW0oAp8Z1OQHMVkUBFQAVFBUmLBUGFRAVBhUGAAAotS/9IApRAAACAAAABgECAyQAFQAVnAUVjAQsFQQVABUGFQYA',
  'ACi1L/1gTgDlBwCW0DUnYGuaAzAMA6her1z2RWYma1t2urEzInLVzTNqhHHRqDpHWwRnC0LvKgAsAC0AqR554r3ZjyeObTxkb5USepX0o8cCNbaMuGKdjjvmI8tgQ0qpAiCQUgoICiml',
  'CoLTGLzhWPj/P8+zLBwX19E8bsw4hNmUwsV1/C6u3vGLDkHQslAYvwF5lTSF9wzI4+Br8w8QA4uimCsYp3lsrdTHLAQFyxwWqM2QKxYxpROGu8dRZwux8c2E5hrJiS5W79X3oloMduTD',
  'R5Ybu7pcbSy6048lsLl27tNuAQwAXg1OMzTwP8/K3CKWBnEqRlPthxJA1C2azloId/SGqQcVBBWsAxXSAkwVChUAEgAAH4sIAAAAAAAA/2XMMQ7CMAyF4SwchdGEKlSCGXEQN3VbQ2pX',
  'iQv09ihMSIxP+t+3c851CeXROOeWzSaVcGga6DX6xF3GvHkt/tjCwIlAuztFg5gJjVX29UQ5ffMZJfirysAj3N5GUlilHEINwr8+6cvUk6xz1dfCMgKupjMaR3hiWqmcfv1Fe19He770',
  'lAx908KS0AbNM5SFIg8cQdSofACQihwc1gAAABUAFRYVPiwVChUQFQYVBgAAH4sIAAAAAAAA/2NiYGDgYmRm7nBjAABD89dACwAAABUEFZAEFZgDTBUKFQASAACIAkwPAAAAaHR0cHM6',
  'Ly94L2JsYW5rOzITAMhweXRob24zLjExLWRvYy9saWJyYXJ5L29zLzA1LWZpbGUtb2JqZWN0LWNyZWF0aW9uLwAuUgAMcGVybAU5XG1hbjMvQ29uZmlnLUV4dGVuc2lvbnMuMwEhAD1u',
  'cgAkaG93dG8vZW51bQFyWHVzaW5nLWF1dG9tYXRpYy12YWx1ZXM+NkEAEXQIcG9kBYGINTg5ZGVsdGEvMTUtcGxhdGZvcm0tc3BlY2lmaWMtbm90ZXMVABUWFRosFQoVEBUGFQYAAAso',
  'AgAAAAoBAwOIRgAVBBVQFVBMFQoVABIAADIAAAAAAAAAPAAAAAAAAABGAAAAAAAAAFAAAAAAAAAAWgAAAAAAAAAVABUWFRYsFQoVEBUGFQYAAAIAAAAKAQMDiEYAFQQVkAUVzgNMFQQV',
  'ABIAACi1L/1gSADtBgBm0C8ikKVJB/8/V1ezKJFhy7Z+2G2J3E2mWNSqQj7cBDkaL2a6AycAJQAnAIc1mknXU1jTaFcZIGkim5dhuDYd/xAnLYwc/D5EcGje1NYNlFIaAelL4EAKEqmJ',
  'zz3pIZW8p9KH7r2T9g7ek+iXsB56OpXXkF84ELV3wC4jVEI046vTS5J0nIt7r7kWgLVKdIaBcGCafKrBiEYopTSOVRnI4cEQzfjUfusbuvd2DY2T9J5R9lUFBNGM5s0pfJQZ0YzBCgkA',
  'SS0uhgI/GVh/YxBTM+5ojANG7FlVtCqmGBUAFRIVJCwVBBUQFQYVBgAAKLUv/SAJSQAAAgAAAAQBAQMCFQQVoAEVqAFMFQQVABIAAB+LCAAAAAAAAP/TZ2BgKKgsycjPM9YzNNRNyU/W',
  'z8lMKkosqtQvyc7MK0kt0ispydY3sNQtTi1ILEosyS+SxNSSrJtYkKmfnJiTAwBKaS0FUAAAABUAFRIVOiwVBBUQFQYVBgAAH4sIAAAAAAAA/2NiYGBgYWRkZgIAVaUiQQkAAAAVBBXI',
  'ARWgAUwVBBUAEgAAZPA+OQAAAGh0dHBzOi8veC9weXRob24zLjExLWRvYy9saWJyYXJ5L3RraW50ZXIudHRrLzA5LXNlcGFyYXRvciMAaj0AJGMtYXBpL2NhbGwVABUSFRYsFQQVEBUG',
  'FQYAAAkgAgAAAAQBAQMCFQQVIBUgTBUEFQASAABkAAAAAAAAAG4AAAAAAAAAFQAVEhUSLBUEFRAVBhUGAAACAAAABAEBAwIZLBaOBBVGFgAAFtQEFdQCFgQAGSaABdQCABkcFsIJFV4W',
  'AAAZFv4BABkcFoINFTwWAAAZFuoCABkcFqoOFTgWAAAAGSwW7BIVSBYAABa0ExWyBBYGABkmhAWABQAZHBbYGhVgFgAAGRaEAwAZHBbwHhU8FgAAGRboAwAZHBaYIBU4FgAAABkcFr4k',
  'FUYWAAAZFoAFABkcFswmFVwWAAAZFpABABkcFugoFTgWAAAZFrgBABkcFtwpFTQWAAAAFQIZXEgMYXJyb3dfc2NoZW1hFQgAFQwlAhgEdGV4dCUATBwAAAAVDCUCGAJpZCUATBwAAAAV',
  'DCUCGAN1cmwlAEwcAAAAFQQlAhgLdG9rZW5fY291bnQAFhgZPBlMJgAcFQwZNQAGEBkYBHRleHQVDBYKFvoIFqAHJo4EJggpPBUAFRAVAgAVBBUAFQIAFQAVABUCAAAWkCoVNAAmABwV',
  'DBk1AAYQGRgCaWQVBBYKFvQCFvgCJsIJJqgHKSwVABUQFQIAFQQVABUCAAAWxCoVHgAmABwVDBk1AAYQGRgDdXJsFQIWChbqAxaeAyaCDSagCiksFQAVEBUCABUEFQAVAgAAFuIqFR4A',
  'JgAcFQQZNQAGEBkYC3Rva2VuX2NvdW50FQAWChakARakASaqDia+DSksFQAVEBUCABUEFQAVAgAAFoArFRYAFvwQFgomCBbaDhQAABlMJgAcFQwZNQAGEBkYBHRleHQVDBYKFrQLFoQJ',
  'JuwSJuIOKTwVABUQFQIAFQQVABUCABUAFQAVAgAAFpYrFTQAJgAcFQwZNQAGEBkYAmlkFQQWChaEBBbSAybYGibmFyksFQAVEBUCABUEFQAVAgAAFsorFR4AJgAcFQwZNQAGEBkYA3Vy',
  'bBUCFgoW6AQW9AMm8B4muBspLBUAFRAVAgAVBBUAFQIAABboKxUeACYAHBUEGTUABhAZGAt0b2tlbl9jb3VudBUAFgoWpAEWpAEmmCAmrB8pLBUAFRAVAgAVBBUAFQIAABaGLBUWABbE',
  'FRYKJuIOFu4RFAIAGUwmABwVDBk1AAYQGRgEdGV4dBUMFgQW5AUWtAQmviQm0CApLBUAFRAVAgAVBBUAFQIAABacLBUeACYAHBUMGTUABhAZGAJpZBUEFgQW9AEWpAImzCYmhCUpLBUA',
  'FRAVAgAVBBUAFQIAABa6LBUeACYAHBUMGTUABhAZGAN1cmwVAhYEFpwCFvgBJugoJqgnKSwVABUQFQIAFQQVABUCAAAW2CwVHgAmABwVBBk1AAYQGRgLdG9rZW5fY291bnQVABYEFnAW',
  'cCbcKSagKSksFQAVEBUCABUEFQAVAgAAFvYsFRYAFuQKFgQm0CAWwAkUBAAZHBgMQVJST1c6c2NoZW1hGOACLy8vLy93QUJBQUFRQUFBQUFBQUtBQXdBQ2dBSkFBUUFDZ0FBQUJBQUFB',
  'QUFBUVFBQ0FBSUFBQUFCQUFJQUFBQUJBQUFBQVFBQUFDa0FBQUFiQUFBQUVRQUFBQUVBQUFBZlAvLy94Z0FBQUFnQUFBQUFBQUJBaHdBQUFBSUFBd0FCQUFMQUFnQUFBQkFBQUFBQUFB',
  'QUFRQUFBQUFMQUFBQWRHOXJaVzVmWTI5MWJuUUF1UC8vL3hRQUFBQU1BQUFBQUFBQkJRd0FBQUFBQUFBQXFQLy8vd01BQUFCMWNtd0EzUC8vL3hRQUFBQU1BQUFBQUFBQkJRd0FBQUFB',
  'QUFBQXpQLy8vd0lBQUFCcFpBQUFFQUFVQUJBQURnQVBBQVFBQUFBSUFCQUFBQUFZQUFBQURBQUFBQUFBQVFVUUFBQUFBQUFBQUFRQUJBQUVBQUFBQkFBQUFIUmxlSFFBQUFBQQAYH3Bh',
  'cnF1ZXQtcnMgKHBhcnF1ZXQtd2FzbSAwLjguMCkZTBwAABwAABwAABwAAADlBAAAUEFSMQ==',
].join('');

describe('a file from arrow-rs (format-1 pages, dictionary fallback, mixed codecs)', () => {
  test('reads like the JSONL, whole row groups or split', async () => {
    const file = path.join(dir, 'arrow-rs.parquet');
    await writeFile(file, Buffer.from(PARQUET_RS_V1, 'base64'));
    const rows: (Doc | string)[] = docs.slice(0, 9).map((d) => ({ id: d.id, text: d.text.slice(0, 160) }));
    rows.splice(3, 0, 'missing_text', 'fallback', 'empty_text');
    for (const maxRows of [Infinity, 2]) {
      const { shards, items } = await readAll(file, {}, maxRows);
      expect(shards.map((s) => s.records)).toEqual(maxRows === 2 ? [2, 2, 1, 2, 2, 1, 2] : [5, 5, 2]);
      const got = items.map(({ item, shard }) =>
        'bad' in item ? item.bad.reason : item.doc.id === `${shard.id}:5` ? 'fallback' : item.doc,
      );
      expect(got).toEqual(rows);
      expect(items.map(({ item }) => item.line)).toEqual(rows.map((_, i) => i + 1));
    }
    const src = await localFileSource(file);
    const meta = await parquetMetadataAsync(src);
    await src.close();
    const stats = meta.row_groups[0]!.columns.map((c) => [
      c.meta_data!.codec,
      c.meta_data!.encoding_stats!.map((e) => `${e.page_type}:${e.encoding}`).sort(),
    ]);
    expect(stats.slice(0, 3)).toEqual([
      ['ZSTD', ['DATA_PAGE:PLAIN', 'DATA_PAGE:RLE_DICTIONARY', 'DICTIONARY_PAGE:PLAIN']],
      ['GZIP', ['DATA_PAGE:RLE_DICTIONARY', 'DICTIONARY_PAGE:PLAIN']],
      ['SNAPPY', ['DATA_PAGE:RLE_DICTIONARY', 'DICTIONARY_PAGE:PLAIN']],
    ]);
  });
});

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
