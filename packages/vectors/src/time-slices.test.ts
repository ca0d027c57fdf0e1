import { buildSegmentsIndex } from './segments-build.js';
import { openSegmentsIndex } from './segments-index.js';
import { writeSegment } from './segment-format.js';
import { clusteredVectors, pointsFor, tempStore } from './test-support.js';
import { TimeSlicer } from './time-slices.js';

/** Counts event-loop turns (check phase) until stopped. */
function turnCounter() {
  let turns = 0;
  let on = true;
  const spin = () => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  return {
    stop: () => {
      on = false;
      return turns;
    },
  };
}

describe('TimeSlicer', () => {
  test('covers every item once, in order, and lets the event loop turn between slices', async () => {
    const slicer = new TimeSlicer(5);
    const seen: number[] = [];
    const turns = turnCounter();
    await slicer.run(200, (start, end) => {
      const until = performance.now() + 0.5; // slow items: several slices
      for (let i = start; i < end; i++) seen.push(i);
      while (performance.now() < until);
    });
    expect(turns.stop()).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test('an abort between slices stops the work', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    let calls = 0;
    const run = new TimeSlicer(1, 1).run(
      1000,
      () => {
        calls++;
        const until = performance.now() + 2;
        while (performance.now() < until);
        ac.abort(reason);
      },
      ac.signal,
    );
    await expect(run).rejects.toBe(reason);
    expect(calls).toBe(1);
  });
});

describe('SegmentsVectorIndex.search in time slices', () => {
  test('a batch search lets the event loop turn and answers like its queries one by one', async () => {
    const { store, cleanup } = await tempStore();
    try {
      const dim = 32;
      const points = pointsFor(clusteredVectors(3000, dim, 10, 11), 5);
      await writeSegment(store, 'a', points, dim);
      await buildSegmentsIndex(store, { connectivity: 16, expansionAdd: 64, expansionSearch: 128 });
      for (const exact of [false, true]) {
        const ix = await openSegmentsIndex(store, { exact });
        try {
          const queries = points.slice(0, 40).map((p) => p.vector);
          const turns = turnCounter();
          const batch = await ix.search(queries, 20, 'd3');
          // before, a batch ran in one synchronous call: no turn of the event loop until it ended
          expect(turns.stop()).toBeGreaterThan(0);
          const one = [];
          for (const q of queries) one.push((await ix.search([q], 20, 'd3'))[0]);
          expect(batch).toEqual(one);
        } finally {
          await ix.close();
        }
      }
    } finally {
      await cleanup();
    }
  });
});
