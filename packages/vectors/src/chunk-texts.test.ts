import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkTexts } from './chunk-texts.js';

const texts = ['alpha', '', 'ünïcödé ✓ 🚀', 'x'.repeat(70_000), 'omega'];

let dir: string;
let file: string;
let table: { textOffsets: Float64Array; textLengths: Uint32Array };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'chunk-texts-'));
  const bytes = texts.map((t) => Buffer.from(t, 'utf8'));
  file = path.join(dir, 'texts.bin');
  writeFileSync(file, Buffer.concat([Buffer.from('pre'), ...bytes]));
  let at = 3;
  table = { textOffsets: new Float64Array(bytes.length), textLengths: new Uint32Array(bytes.length) };
  bytes.forEach((b, k) => {
    table.textOffsets[k] = at;
    table.textLengths[k] = b.length;
    at += b.length;
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('reads every text by key, multi-byte and longer than the read buffer included', () => {
  const t = new ChunkTexts(file, table);
  expect([4, 3, 2, 1, 0].map((k) => t.get(k))).toEqual([...texts].reverse());
  // kept: the same string again
  expect(t.get(2)).toBe(texts[2]);
});

test('a bound smaller than the texts evicts the least recently used and still answers right', () => {
  const t = new ChunkTexts(file, table, 12);
  for (let round = 0; round < 3; round++) for (let k = 0; k < texts.length; k++) expect(t.get(k)).toBe(texts[k]);
  const kept = (t as unknown as { kept: Map<number, string> }).kept;
  const bytes = [...kept.keys()].reduce((n, k) => n + table.textLengths[k]!, 0);
  expect(bytes).toBeLessThanOrEqual(12);
  expect(kept.has(3)).toBe(false); // longer than the bound: never kept
});

test('a key past the end of the file fails, naming the chunk; a closed one says so', () => {
  const bad = { textOffsets: Float64Array.of(1e6), textLengths: Uint32Array.of(5) };
  expect(() => new ChunkTexts(file, bad).get(0)).toThrow('texts of chunk 0: the file ended early');
  const closed = new ChunkTexts(file, table);
  closed.close();
  expect(() => closed.get(0)).toThrow('the vector index is closed');
});
