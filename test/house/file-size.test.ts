import { readFileSync } from 'node:fs';
import { rel, sourceFiles } from './source-graph.js';

/** No source file over 400 lines, tests and benches included: a longer file is two files. */
const MAX_LINES = 400;

const lineCount = (text: string) => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));

test(`no source file is over ${MAX_LINES} lines`, () => {
  const files = sourceFiles();
  expect(files.length).toBeGreaterThan(100); // the walk found the tree
  const long = files
    .map((f) => ({ file: rel(f), lines: lineCount(readFileSync(f, 'utf8')) }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines} lines (at most ${MAX_LINES})`);
  expect(long).toEqual([]);
});

test('lines are counted as an editor shows them', () => {
  expect(lineCount('')).toBe(0);
  expect(lineCount('a\nb\n')).toBe(2);
  expect(lineCount('a\nb')).toBe(2);
});
