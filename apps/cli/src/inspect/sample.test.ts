import { sampleIndices } from '@nextlong/core';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { tempDir } from '@nextlong/testing';
import { compress } from 'zstd-napi';
import type { ReadRecord } from './records.js';
import { FULL_SCAN_SEQUENCES, negativesPerMeta, pickSequences } from './sample.js';
import { parseSequences } from '../inspect-command.js';

const seg = (type: 'meta' | 'negative', chunk = 0) => ({ type, doc_id: type === 'meta' ? 'M' : 'n', chunk, start: 0, end: 0 });
const rec = (placement: string, types: string): ReadRecord =>
  ({
    id: 'M',
    text: '',
    num_tokens: 0,
    tokenizer: 'llama3',
    meta_doc_id: 'M',
    placement,
    segments: [...types].map((t) => seg(t === 'm' ? 'meta' : 'negative')),
  }) as ReadRecord;

describe('negatives per meta-chunk', () => {
  test('head: the negatives after each meta-chunk, empty groups included', () => {
    expect(negativesPerMeta(rec('head', 'mnnmmnnnn'))).toEqual([2, 0, 4]);
    expect(negativesPerMeta(rec('head', 'm'))).toEqual([0]);
  });
  test('tail: the negatives before each meta-chunk', () => {
    expect(negativesPerMeta(rec('tail', 'nnmmnm'))).toEqual([2, 0, 1]);
  });
  test('random: groups cannot be told apart, nothing is counted', () => {
    expect(negativesPerMeta(rec('random', 'nmnnm'))).toEqual([]);
  });
});

describe('--sequences', () => {
  test('digits are a count (default 50), anything else a list of ids', () => {
    expect(parseSequences(undefined, 3)).toEqual({ count: 50, seed: 3 });
    expect(parseSequences('7', 0)).toEqual({ count: 7, seed: 0 });
    expect(parseSequences('doc-1, doc-2,', 0)).toEqual({ ids: ['doc-1', 'doc-2'] });
    expect(() => parseSequences(' , ', 0)).toThrow(/--sequences/);
  });
});

describe('pickSequences reads what the request needs', () => {
  let cleanup: () => Promise<void>;
  let store: StreamingObjectStore;
  /** Parts of `sizes` records each; record `r<ordinal>` has `ordinal % 5` negatives after its meta-chunk. */
  async function writeParts(sizes: number[]) {
    const parts: { shard: string; key: string; sequences: number }[] = [];
    let ordinal = 0;
    for (const [i, n] of sizes.entries()) {
      const lines: string[] = [];
      for (let j = 0; j < n; j++, ordinal++) lines.push(JSON.stringify({ ...rec('head', 'm' + 'n'.repeat(ordinal % 5)), id: `r${ordinal}` }));
      const key = `sequences/part-${i}.jsonl.zst`;
      await store.put(key, compress(Buffer.from(lines.join('\n') + '\n')));
      parts.push({ shard: `s${i}`, key, sequences: n });
    }
    return parts;
  }
  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir('nextlong-pick-'));
    store = openObjectStore(dir);
  });
  afterAll(() => cleanup());

  test('a large run: the sampled records, reading each part only up to its last one', async () => {
    const sizes = [900, 900, 900, 900];
    expect(sizes.reduce((a, b) => a + b)).toBeGreaterThan(FULL_SCAN_SEQUENCES);
    const parts = await writeParts(sizes);
    const r = await pickSequences(store, parts, { count: 5, seed: 7 });
    const want = sampleIndices(3600, 5, 7).sort((a, b) => a - b);
    expect(r.picked.map((p) => p.record.id)).toEqual(want.map((o) => `r${o}`));
    expect(r.picked.map((p) => p.ordinal)).toEqual(want);
    const lastPerPart = [0, 1, 2, 3].map((i) => Math.max(-1, ...want.filter((o) => o >= 900 * i && o < 900 * (i + 1))));
    const needed = lastPerPart.reduce((n, last, i) => n + (last < 0 ? 0 : last - 900 * i + 1), 0);
    expect(r.scanned).toBe(needed);
    expect(r.scanned).toBeLessThan(3600);
    expect(Object.values(r.kHist).reduce((a, b) => a + b)).toBe(r.scanned); // one meta-chunk each
  });

  test('a large run asked for ids: stops once every id is found', async () => {
    const parts = await writeParts([1500, 1500, 1500]);
    const r = await pickSequences(store, parts, { ids: ['r1600', 'r3'] });
    expect(r.picked.map((p) => p.record.id)).toEqual(['r3', 'r1600']);
    expect(r.scanned).toBe(1601);
    expect(r.missing).toEqual([]);
  });

  test('a small run is read whole: every record counts', async () => {
    const parts = await writeParts([30, 40]);
    const r = await pickSequences(store, parts, { ids: ['r0'] });
    expect(r.scanned).toBe(70);
    expect(r.kHist).toEqual({ 0: 14, 1: 14, 2: 14, 3: 14, 4: 14 });
  });
});
