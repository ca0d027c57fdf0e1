import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IndexDescriptor } from './index-layout.js';
import { cosAtI8, cosRowsI8, dotAt, dotAtF16, dotRowsF16 } from './scoring.js';
import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex } from './segments-index.js';
import { clusteredVectors, descriptorOf, pointsFor, saveReferenceGraph, sha256Of, tempStore, writeThreeSegments } from './test-support.js';
import { VectorRows } from './vector-rows.js';
import { f16Values, fromF16Bits, quantizeRows, toF16Bits, type VectorType } from './vector-types.js';

const dim = 37; // odd on purpose: no loop may assume a multiple of 4
const count = 3000;
const rows = clusteredVectors(count, dim, 30, 17);
const flat = new Float32Array(count * dim);
rows.forEach((v, k) => flat.set(v, k * dim));
const all = pointsFor(rows, 6);
const params = { connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
// Segment bounds 0, 1000, 2000, 3000; 800 keys per partition → 4 partitions cut at 750, 1500, 2250.
const partitionChunks = 800;

/** Every file the descriptor names, by sha256, and the descriptor text. */
async function indexFiles(store: { localPath(k: string): string }): Promise<Record<string, string>> {
  const desc = await descriptorOf(store);
  const out: Record<string, string> = { 'index.json': await readFile(store.localPath('index/index.json'), 'utf8') };
  for (const f of [...Object.values(desc.files), ...desc.partitions.map((p) => p.file)])
    out[f.name] = await sha256Of(store.localPath(`index/${f.name}`));
  return out;
}

/** The value nearest to float32 `x` among the halves, ties to the even one: by search, not by bits. */
function nearestHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Positive halves 0..0x7c00 ascend with their bits; 0x7c00 (inf) stands for 65536 here.
  const value = (h: number) => (h === 0x7c00 ? 65536 : fromF16Bits(h));
  if (a >= 65536) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7c00;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value(mid) <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - value(lo);
  const dHi = value(hi) - a;
  return sign | (dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi);
}

describe('half floats', () => {
  test('every half converts back to its own bits; the table holds every value', () => {
    const table = f16Values();
    const bad: number[] = []; // one expect for all: 65536 of them take seconds
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      const ok = isNaN ? Number.isNaN(table[h]) : Object.is(table[h], fromF16Bits(h)) && toF16Bits(table[h]) === h;
      if (!ok) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  test('rounds to the nearest half, ties to even, subnormals and overflow included', () => {
    expect([1, 65504, 65519, 65520, 1e6, -0, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26].map(toF16Bits)).toEqual([
      0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x8000, 0x0001, 0x0000, 0x0002, 0x0000,
    ]);
    expect(toF16Bits(Infinity)).toBe(0x7c00);
    expect(toF16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(fromF16Bits(toF16Bits(NaN)))).toBe(true);
    // Exactly halfway between two halves, odd and even neighbours, normal and subnormal.
    for (const h of [0x0001, 0x0002, 0x03ff, 0x0400, 0x3c00, 0x3c01, 0x7bfe]) {
      const mid = (fromF16Bits(h) + fromF16Bits(h + 1)) / 2;
      expect(toF16Bits(mid)).toBe(h % 2 === 0 ? h : h + 1);
      expect(toF16Bits(-mid)).toBe((h % 2 === 0 ? h : h + 1) | 0x8000);
    }
    let seed = 1;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bad: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() - 0.5) * 2 ** (Math.floor(rand() * 44) - 27));
      if (toF16Bits(x) !== nearestHalf(x)) bad.push(x);
    }
    expect(bad).toEqual([]);
  });
});

describe('int8 rows', () => {
  test('each row scaled to a largest |value| of 127; a zero row stays zero; the direction is kept', () => {
    const withZero = flat.slice(0, 10 * dim);
    withZero.fill(0, 4 * dim, 5 * dim);
    const q = quantizeRows(withZero, dim, 'i8') as Int8Array;
    for (let r = 0; r < 10; r++) {
      const row = Array.from(q.subarray(r * dim, (r + 1) * dim));
      if (r === 4) {
        expect(row.every((x) => x === 0)).toBe(true);
        continue;
      }
      expect(Math.max(...row.map(Math.abs))).toBe(127);
      expect(cosAtI8(q, r * dim, rows[r])).toBeGreaterThan(0.999);
    }
    expect(cosAtI8(q, 4 * dim, rows[0])).toBe(0);
  });
});

describe('exact scores of stored rows', () => {
  const f16 = quantizeRows(flat, dim, 'f16') as Uint16Array;
  const i8 = quantizeRows(flat, dim, 'i8') as Int8Array;
  const query = rows[3];

  test('the four-row and two-row passes equal the one-row score bit for bit', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 9, 299]) {
      const keys = Uint32Array.from({ length: n }, (_, i) => (i * 7919) % count);
      const a = new Float64Array(n);
      const b = new Float64Array(n);
      dotRowsF16(f16, dim, query, keys, n, a);
      cosRowsI8(i8, dim, query, keys, n, b);
      keys.forEach((k, i) => {
        expect(Object.is(a[i], dotAtF16(f16, k * dim, query))).toBe(true);
        expect(Object.is(b[i], cosAtI8(i8, k * dim, query))).toBe(true);
      });
    }
  });

  test('scores stay close to the f32 ones', () => {
    let worst16 = 0;
    let worst8 = 0;
    for (let k = 0; k < count; k++) {
      const exact = dotAt(flat, k * dim, query);
      worst16 = Math.max(worst16, Math.abs(dotAtF16(f16, k * dim, query) - exact));
      worst8 = Math.max(worst8, Math.abs(cosAtI8(i8, k * dim, query) - exact));
    }
    expect(worst16).toBeLessThan(2e-3);
    expect(worst8).toBeLessThan(2e-2);
  });

  test.each(['f16', 'i8'] as VectorType[])('VectorRows of %s: the same values read on demand, held in memory, or scanned', async (type) => {
    const { dir, cleanup } = await tempStore();
    try {
      const stored = quantizeRows(flat, dim, type);
      const file = path.join(dir, `vectors.${type}`);
      await writeFile(file, new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
      const onDisk = VectorRows.open(file, dim, count, 'vectors', 0, type);
      const held = VectorRows.open(file, dim, count, 'vectors', 1 << 30, type);
      expect([onDisk.inMemory, held.inMemory]).toEqual([false, true]);
      const keys = Uint32Array.from({ length: 123 }, (_, i) => (i * 31) % count);
      const a = new Float64Array(123);
      const b = new Float64Array(123);
      onDisk.scoreKeys(query, keys, 123, a);
      held.scoreKeys(query, keys, 123, b);
      expect(Array.from(a)).toEqual(Array.from(b));
      const scanned: number[] = [];
      onDisk.scan(query, (_, s) => scanned.push(s));
      expect(scanned.length).toBe(count);
      keys.forEach((k, i) => expect(Object.is(scanned[k], a[i])).toBe(true));
      expect(() => VectorRows.open(file, dim, count + 1, 'vectors', 0, type)).toThrow(
        new RegExp(`vectors: ${count * dim} ${type} values, expected ${count + 1} × ${dim}`),
      );
      onDisk.close();
      held.close();
    } finally {
      await cleanup();
    }
  });
});

describe('f16 and i8 indexes', () => {
  test.each([
    ['f16', 2],
    ['i8', 1],
  ] as Array<[VectorType, number]>)(
    '%s: byte-identical for any build thread count, graphs equal a plain insert of the stored rows, deterministic search',
    async (type, width) => {
      const a = await tempStore();
      const b = await tempStore();
      const f32 = await tempStore();
      try {
        for (const s of [a, b, f32]) await writeThreeSegments(s.store, all, dim);
        await buildSegmentsIndex(a.store, { ...params, partitionChunks, threads: 1, vectorType: type });
        await buildSegmentsIndex(b.store, { ...params, partitionChunks, threads: 3, vectorType: type });
        await buildSegmentsIndex(f32.store, { ...params, partitionChunks, threads: 2 });
        const files = await indexFiles(a.store);
        expect(await indexFiles(b.store)).toEqual(files);

        const desc = await descriptorOf(a.store);
        expect(desc.version).toBe(3);
        expect(desc.vectorType).toBe(type);
        expect(desc.files.vectors.name).toBe(`vectors.${type}`);
        expect(desc.files.vectors.bytes).toBe(count * dim * width);
        expect((await stat(a.store.localPath(`index/vectors.${type}`))).size).toBe(count * dim * width);
        // Each graph is what a single-threaded insert of the stored rows, segment by segment, gives.
        const cuts = [0, 750, 1000, 1500, 2000, 2250, 3000];
        for (const [p, part] of desc.partitions.entries()) {
          const ranges = cuts
            .slice(0, -1)
            .map((c, i) => [c, cuts[i + 1]])
            .filter(([c]) => c >= part.first && c < part.first + part.count);
          const ref = path.join(a.dir, `ref-${p}.usearch`);
          saveReferenceGraph(all, dim, params, ranges, ref, type);
          expect(await sha256Of(ref)).toBe(files[part.file.name]);
        }
        // Smaller graphs than f32's: they hold their own copy of the vectors.
        const f32Desc = await descriptorOf(f32.store);
        const graphBytes = (d: IndexDescriptor) => d.partitions.reduce((n, p) => n + p.file.bytes, 0);
        expect(graphBytes(desc)).toBeLessThan(graphBytes(f32Desc));

        const queries = clusteredVectors(40, dim, 30, 19);
        const one = await openSegmentsIndex(a.store, { threads: 1 });
        const two = await openSegmentsIndex(b.store, { threads: 2 });
        const exact = await openSegmentsIndex(a.store, { exact: true });
        const exactF32 = await openSegmentsIndex(f32.store, { exact: true });
        const got = await one.search(queries, 20, 'd1');
        expect(await two.search(queries, 20, 'd1')).toEqual(got);
        // Scores are the stored rows' exact scores, whichever path found them.
        const stored = quantizeRows(flat, dim, type);
        const score =
          type === 'f16'
            ? (k: number, q: Float32Array) => dotAtF16(stored as Uint16Array, k * dim, q)
            : (k: number, q: Float32Array) => cosAtI8(stored as Int8Array, k * dim, q);
        got.forEach((hits, i) => hits.forEach((h) => expect(Object.is(h.score, score(h.key, queries[i]))).toBe(true)));
        const truth = await exact.search(queries, 20, 'd1');
        const truthF32 = await exactF32.search(queries, 20, 'd1');
        const overlap = (x: typeof got, y: typeof got) =>
          x.reduce((n, hits, i) => n + hits.filter((h) => y[i].some((t) => t.key === h.key)).length, 0) / (20 * queries.length);
        expect(overlap(got, truth)).toBeGreaterThan(0.95);
        expect(overlap(truth, truthF32)).toBeGreaterThan(0.8);
        for (const ix of [one, two, exact, exactF32]) await ix.close();
      } finally {
        for (const s of [a, b, f32]) await s.cleanup();
      }
    },
  );

  test('descriptors: f32 is written as before (version 2, no type); a typed index is refused when mislabelled', async () => {
    const { store, cleanup } = await tempStore();
    try {
      await writeThreeSegments(store, all, dim);
      await buildSegmentsIndex(store, params);
      const f32 = await descriptorOf(store);
      // The keys and version an f32 index had before vector types existed.
      expect(Object.keys(f32)).toEqual([
        'format',
        'version',
        'metric',
        'dim',
        'chunks',
        'docs',
        'segments',
        'params',
        'files',
        'partitions',
      ]);
      expect(f32.version).toBe(2);
      expect(f32.files.vectors.name).toBe('vectors.f32');
      const ix = await openSegmentsIndex(store);
      expect((await ix.search([rows[0]], 5, 'none'))[0][0]).toMatchObject({ key: 0 });
      await ix.close();

      await buildSegmentsIndex(store, { ...params, vectorType: 'f16' });
      const typed = await descriptorOf(store);
      const put = (d: object) => writeFile(store.localPath('index/index.json'), JSON.stringify(d));
      const { vectorType: _, ...untyped } = typed;
      await put({ ...untyped, version: 2 });
      // As a version 2 reader would see it: f32 rows, half of them missing.
      await expect(openSegmentsIndex(store)).rejects.toThrow(/vectors\.f16: 55500 f32 values, expected 3000 × 37/);
      await put(untyped);
      await expect(openSegmentsIndex(store)).rejects.toThrow(/bad vectorType undefined for version 3/);
      await put({ ...typed, vectorType: 'f32' });
      await expect(openSegmentsIndex(store)).rejects.toThrow(/bad vectorType "f32" for version 3/);
      await put({ ...f32, vectorType: 'i8' });
      await expect(openSegmentsIndex(store)).rejects.toThrow(/bad vectorType "i8" for version 2/);
    } finally {
      await cleanup();
    }
  });
});
