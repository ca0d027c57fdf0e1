/**
 * (a) Chunker throughput: `groupSegments` (max 2048) over every document vs a bare
 * split('\n')-and-count-code-points loop on the same text. Goal: ratio ≥ 0.5.
 * The baseline is the faster of two bare loops ([...seg].length beats a charCodeAt loop over
 * split segments in V8); "split only" shows the cost of splitting alone.
 */
import { groupSegments } from '@nextlong/core';

/** Split on '\n' and count each segment's code points with charCodeAt (surrogate pairs once). */
function splitAndCount(text) {
  let total = 0;
  for (const seg of text.split('\n')) {
    let n = seg.length;
    for (let i = 0; i < seg.length; i++) {
      const c = seg.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < seg.length) {
        const d = seg.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          n--;
          i++;
        }
      }
    }
    total += n;
  }
  return total;
}

export default async function chunkerBench({ corpus }) {
  const { docs, bytes } = await corpus();
  const mb = bytes / 1e6;
  let sink = 0;
  return {
    title: 'chunker: groupSegments(text, 2048)',
    note: `${docs.length} documents; MB = UTF-8 megabytes of text`,
    runs: 9,
    warmup: 2,
    cases: [
      {
        // the literal transcription of the reference (len(seg) → [...seg].length): the fastest bare loop here
        name: "split('\\n') + [...seg].length",
        unit: 'MB',
        baseline: true,
        run: () => {
          for (const d of docs) for (const seg of d.text.split('\n')) sink += [...seg].length;
          return mb;
        },
      },
      {
        name: "split('\\n') + charCodeAt count",
        unit: 'MB',
        run: () => {
          for (const d of docs) sink += splitAndCount(d.text);
          return mb;
        },
      },
      {
        name: "split('\\n') only (UTF-16 length)",
        unit: 'MB',
        run: () => {
          for (const d of docs) for (const seg of d.text.split('\n')) sink += seg.length;
          return mb;
        },
      },
      {
        name: 'groupSegments',
        unit: 'MB',
        goal: 0.5,
        run: () => {
          for (const d of docs) sink += groupSegments(d.text, 2048).length;
          return mb;
        },
      },
    ],
  };
}
