import { codePointLength } from '@nextlong/core';
import { loadTokenizer } from '@nextlong/tokenizers';
import type { ReadRecord } from './records.js';
import { utf16Cursor, viewSequences } from './view.js';

/** A record of pieces joined by the separator, with code point offsets as the pipeline writes them. */
function record(id: string, pieces: string[]): ReadRecord {
  const segments = [];
  let at = 0;
  for (const [i, p] of pieces.entries()) {
    const n = codePointLength(p);
    segments.push({
      type: i % 2 ? 'negative' : 'meta',
      doc_id: i % 2 ? `n${i}` : id,
      chunk: i,
      start: at,
      end: at + n,
      ...(i % 2 ? { score: 0.5 } : {}),
    });
    at += n + 2;
  }
  const text = pieces.join('\n\n');
  const tok = loadTokenizer('llama3');
  return { id, text, num_tokens: tok.count(text), tokenizer: 'llama3', meta_doc_id: id, placement: 'head', segments } as ReadRecord;
}

test('utf16Cursor maps code point offsets past astral characters', () => {
  const s = 'a😀b😀😀c';
  const at = utf16Cursor(s);
  expect([0, 1, 2, 3, 5, 6].map(at)).toEqual([0, 1, 3, 4, 8, 9]);
  expect(at(1)).toBe(1); // asking again from the start works
});

describe('viewSequences', () => {
  const pieces = ['Meta 😀 one. Words here.', 'A negative piece, with 𝒳 math.', 'Meta two ends the sequence.'];
  const r = record('d1', pieces);

  test('each segment slices its piece by UTF-16 range; token ranges tile [0, num_tokens)', () => {
    const [v] = viewSequences([{ record: r, shard: 's0', ordinal: 0 }], 1e6, loadTokenizer('llama3'));
    expect(v!.segments.map((s) => v!.text!.slice(s.u16[0], s.u16[1]))).toEqual(pieces);
    const toks = v!.segments.map((s) => s.tokens!);
    expect(toks[0]![0]).toBe(0);
    expect(toks.at(-1)![1]).toBe(r.num_tokens);
    toks.forEach((t, i) => {
      expect(t[1]).toBeGreaterThan(t[0]);
      if (i) expect(t[0]).toBeGreaterThanOrEqual(toks[i - 1]![1]);
    });
    expect(v!.segments[1]!.score).toBe(0.5);
  });

  test('within the budget: the segments of as many as fit, then texts in order while they fit', () => {
    const long = pieces.map((p) => p.repeat(20)); // text longer than its segments' JSON
    const picked = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ record: record(id, long), shard: 's0', ordinal: i }));
    const whole = viewSequences(picked.slice(0, 1), 1e6, undefined)[0]!;
    const segBytes = Buffer.byteLength(JSON.stringify({ ...whole, text: undefined })) * 1.15;
    const textBytes = Buffer.byteLength(JSON.stringify(whole.text));
    const v = viewSequences(picked, 5 * segBytes + 1.5 * textBytes, undefined);
    expect(v.map((s) => [s.id, s.text !== undefined])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
      ['d', false],
      ['e', false],
    ]);
    expect(viewSequences(picked, 3.5 * segBytes, undefined).map((s) => [s.id, s.text !== undefined])).toEqual([
      ['a', false],
      ['b', false],
      ['c', false],
    ]);
    expect(v[2]!.segments).toHaveLength(3);
    expect(v[0]!.segments[0]!.tokens).toBeUndefined();
  });
});
