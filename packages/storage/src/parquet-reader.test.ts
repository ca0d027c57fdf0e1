import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetMetadataAsync } from 'hyparquet';
import { docColumns, type ParquetFixtureCodec, writeParquetFixture } from '../../testing/src/parquet-fixture.js';
import { localFileSource, planParquetShards, rangeSource, readParquetFooter, readParquetShard } from './parquet-reader.js';
import type { ShardItem } from './shard-reader.js';
import { base, type Doc, docsOf, parquetWorkspace, readAll } from './test-support.js';

let docs: Doc[];
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => ({ docs, dir, cleanup } = await parquetWorkspace()));
afterAll(() => cleanup());

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
