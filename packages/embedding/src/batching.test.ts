import { padBatch } from './batching.js';

// padBatch writes int64 cells through an Int32Array view (no BigInt per cell): the tensors must
// equal those of the plain BigInt loop it replaced.
test('padBatch writes the same int64 tensors as the original BigInt loop', () => {
  const items = [
    { ids: [5, 0x7fffffff, 3] },
    { ids: Int32Array.of(9) },
    { ids: [] as number[], typeIds: [] },
    { ids: [1, 2], typeIds: [0, 1] },
  ];
  const b = padBatch(items);
  const cols = 3;
  expect([b.rows, b.cols]).toEqual([4, cols]);
  const ids = new BigInt64Array(4 * cols);
  const mask = new BigInt64Array(4 * cols);
  const typeIds = new BigInt64Array(4 * cols);
  items.forEach((e, r) => {
    for (let c = 0; c < e.ids.length; c++) {
      ids[r * cols + c] = BigInt(e.ids[c]);
      mask[r * cols + c] = 1n;
      typeIds[r * cols + c] = BigInt(('typeIds' in e ? e.typeIds?.[c] : undefined) ?? 0);
    }
  });
  expect(b.ids).toEqual(ids);
  expect(b.mask).toEqual(mask);
  expect(b.typeIds).toEqual(typeIds);
  expect(Array.from(b.lengths)).toEqual([3, 1, 0, 2]);
  expect(padBatch(items, false).typeIds).toHaveLength(0);
  expect(() => padBatch([{ ids: [-1] }])).toThrow(RangeError);
});
