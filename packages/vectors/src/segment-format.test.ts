import { textHash, type ChunkPoint } from '@nextlong/core';
import { decodeSegment, encodeSegment, segmentKey, segmentPoints, writeSegment } from './segment-format.js';
import { normalize, tempStore } from './test-support.js';

const dim = 3;
const point = (docId: string, chunk: number, text: string, v: number[]): ChunkPoint => ({
  docId,
  chunk,
  text,
  hash: textHash(text),
  vector: normalize(Float32Array.from(v)),
});

const points: ChunkPoint[] = [
  point('doc-α', 0, 'plain ascii', [1, 2, 3]),
  point('doc-α', 1, '絵文字 😀👩‍👩‍👧 and 中文字符 — mixed', [3, 2, 1]),
  point('doc-β', 0, '', [0, 1, 0]),
  point('doc-\n"quoted"', 7, 'line\nbreaks\r\nand \u0000 nul', [0, 0, 1]),
];

describe('segment format', () => {
  test('round-trips points exactly, including emoji, CJK and empty text', () => {
    const bytes = encodeSegment(points, dim);
    const seg = decodeSegment(bytes, 'k');
    expect(seg.dim).toBe(dim);
    expect(seg.count).toBe(points.length);
    expect(segmentPoints(seg)).toEqual(points);
  });

  test('decodes from an unaligned view of a larger buffer', () => {
    const bytes = encodeSegment(points, dim);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 1);
    expect(segmentPoints(decodeSegment(padded.subarray(1, 1 + bytes.length), 'k'))).toEqual(points);
  });

  test('an empty segment round-trips', () => {
    expect(decodeSegment(encodeSegment([], 8), 'k')).toMatchObject({ dim: 8, count: 0 });
  });

  test('rejects vectors of the wrong dimension and unsafe hashes', () => {
    expect(() => encodeSegment(points, 4)).toThrow(/3 dims, expected 4/);
    expect(() => encodeSegment([{ ...points[0], hash: 2 ** 60 }], dim)).toThrow(/hash/);
  });

  test('decode errors name the key', () => {
    const bytes = encodeSegment(points, dim);
    expect(() => decodeSegment(bytes.subarray(0, 10), 'index/segments/s1.seg')).toThrow('segment index/segments/s1.seg: too short');
    const bad = bytes.slice();
    bad[0] ^= 0xff;
    expect(() => decodeSegment(bad, 'index/segments/s1.seg')).toThrow(/s1\.seg: not a segment file/);
    const version = bytes.slice();
    version[4] = 9;
    expect(() => decodeSegment(version, 'K')).toThrow(/K: unsupported version 9/);
    expect(() => decodeSegment(bytes.subarray(0, bytes.length - 1), 'K')).toThrow(/K: truncated/);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeSegment(longer, 'K')).toThrow(/K: 1 unexpected trailing bytes/);
  });

  test('writeSegment stores index/segments/<shardId>.seg', async () => {
    const { store, cleanup } = await tempStore();
    try {
      const key = await writeSegment(store, 'shard-0007', points, dim);
      expect(key).toBe('index/segments/shard-0007.seg');
      expect(segmentPoints(decodeSegment(await store.get(key), key))).toEqual(points);
    } finally {
      await cleanup();
    }
  });

  test('shard ids cannot escape the segments prefix', () => {
    for (const bad of ['', '../x', 'a//b', 'a/./b']) expect(() => segmentKey(bad)).toThrow(/invalid shard id/);
    expect(segmentKey('corpus/part-1')).toBe('index/segments/corpus/part-1.seg');
  });
});
