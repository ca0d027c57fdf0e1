import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import llama3 from 'llama3-tokenizer-js';
import { loadTokenizer } from './index.js';

const docs: { id: string; text: string }[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { id: string; text: string });

const tok = loadTokenizer('llama3');
const reference = (s: string) => llama3.encode(s, { bos: false, eos: false });

describe('llama3 equals llama3-tokenizer-js', () => {
  test('known ids', () => {
    expect(Array.from(tok.encode('Hello world'))).toEqual([9906, 1917]);
    expect(Array.from(tok.encode(''))).toEqual([]);
  });

  test.each([
    'Hello world',
    'The quick brown fox jumps over the lazy dog.',
    "I'm sure you'll see it's DON'T and WE'VE and You'Re",
    '   leading and trailing spaces   ',
    'tabs\tand\r\nwindows\r\nnewlines\n\n\n  indented\n',
    'numbers 1 12 123 1234 12345 3.14159 -42 1e10 0x1F',
    'unicode: café naïve Ωμέγα Привет мир 中文字符 日本語のテキスト 한국어',
    'emoji 😀🦙👩‍👩‍👧🇫🇷 and 𠀀𠀁 astral',
    'code: def f(x):\n    return {"a": [1, 2]}  # comment\n',
    '$ git commit -m "Some work." -i hello',
    'a'.repeat(1000),
    '\u00a0non-breaking\u2003em-space\u200bzero-width',
  ])('%j', (s) => {
    expect(Array.from(tok.encode(s))).toEqual(reference(s));
    expect(tok.count(s)).toBe(reference(s).length);
  });

  test('every document of the fixture', () => {
    let tokens = 0;
    for (const d of docs) {
      const ids = Array.from(tok.encode(d.text));
      expect({ id: d.id, ids }).toEqual({ id: d.id, ids: reference(d.text) });
      tokens += ids.length;
    }
    expect(tokens).toBeGreaterThan(100_000);
  });

  test('random strings (no special-token markers)', () => {
    const unit = fc.oneof(
      fc.constantFrom(' ', '  ', '\n', '\r\n', '\t', "'s", "'LL", '.', ',', '123', '4567', 'é', '中', '😀', 'ǅ'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 10 }),
    );
    fc.assert(
      fc.property(
        fc.array(unit, { maxLength: 30 }).map((a) => a.join('')),
        (s) => {
          fc.pre(!s.includes('<|'));
          expect(Array.from(tok.encode(s))).toEqual(reference(s));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('llama3 decode and offsets', () => {
  test('decode(encode(s)) === s on the fixture', () => {
    for (const d of docs.slice(0, 40)) expect(tok.decode(tok.encode(d.text))).toBe(d.text);
  });

  test('decode(encode(s)) === s on random well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 1500 },
    );
  });

  test('special-token strings are plain text', () => {
    const s = '<|begin_of_text|>x<|eot_id|><|end_of_text|>';
    const ids = tok.encode(s);
    for (const id of ids) expect(id).toBeLessThan(128000);
    expect(tok.decode(ids)).toBe(s);
  });

  test('decode accepts plain arrays', () => {
    expect(tok.decode([9906, 1917])).toBe('Hello world');
  });
});
