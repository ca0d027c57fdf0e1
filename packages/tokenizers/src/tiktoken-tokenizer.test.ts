import fc from 'fast-check';
import llama3 from 'llama3-tokenizer-js';
import { get_encoding } from 'tiktoken';
import { gpt2SymbolOfByte } from '@nextlong/testing';
import { loadTokenizer, utf16IndexOfUtf8Offset } from './index.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** GPT-2 bytes_to_unicode, inverted: byte-level symbol → byte. */
const byteOfSymbol = new Map(gpt2SymbolOfByte().map((sym, b) => [sym, b]));

/** Bytes per token id, from an independent source for each tokenizer. */
function tokenByteLength(name: string): (id: number) => number {
  if (name === 'llama3')
    return (id) => {
      const bytes = [...llama3.vocabById[id]!].map((ch) => byteOfSymbol.get(ch));
      expect(bytes).not.toContain(undefined);
      return bytes.length;
    };
  const enc = get_encoding(name === 'cl100k' ? 'cl100k_base' : 'o200k_base');
  return (id) => enc.decode_single_token_bytes(id).length;
}

test('the byte-level symbol table covers 256 bytes', () => {
  expect(new Set(byteOfSymbol.values()).size).toBe(256);
});

describe('utf16IndexOfUtf8Offset', () => {
  test('rounds down to a code point boundary', () => {
    const s = 'aé中😀b'; // bytes: 1, 2, 3, 4, 1
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((b) => utf16IndexOfUtf8Offset(s, b))).toEqual([
      0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 5, 6, 6,
    ]);
  });

  // The walk from the end (cuts past half the text) must land where a walk from the start does,
  // lone and paired surrogates included; the reference is the definition, code point by code point.
  test('equals the boundary found from the start, for every offset', () => {
    const unit = fc.constantFrom('a', '\n', 'é', '中', '😀', '\ud800', '\udc00', '\ud83d', ' ');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 40 }), (units) => {
        const s = units.join('');
        const ends: number[] = [0];
        const widths: number[] = [];
        for (let i = 0; i < s.length;) {
          const c = s.charCodeAt(i);
          const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
          widths.push(pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
          i += pair ? 2 : 1;
          ends.push(i);
        }
        for (let b = 0, at = 0, k = 0; b <= utf8(s) + 1; b++) {
          while (k < widths.length && at + widths[k]! <= b) at += widths[k++]!;
          expect(utf16IndexOfUtf8Offset(s, b)).toBe(ends[k]);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(['llama3', 'cl100k', 'o200k'])('%s prefixEnd', (name) => {
  const tok = loadTokenizer(name);
  const bytesOf = tokenByteLength(name);

  /** prefixEnd(n) is the largest code point boundary whose UTF-8 prefix fits in the first n tokens' bytes. */
  function check(text: string) {
    const ids = tok.encode(text);
    let bytes = 0;
    for (let n = 0; n <= ids.length; n++) {
      const end = tok.prefixEnd(text, ids, n);
      const c = text.charCodeAt(end - 1);
      expect(c >= 0xd800 && c <= 0xdbff).toBe(false);
      expect(utf8(text.slice(0, end))).toBeLessThanOrEqual(bytes);
      if (end < text.length) {
        const next = end + (text.codePointAt(end)! > 0xffff ? 2 : 1);
        expect(utf8(text.slice(0, next))).toBeGreaterThan(bytes);
      }
      // where the tokens end on a character boundary, decoding them gives exactly that prefix
      if (utf8(text.slice(0, end)) === bytes) expect(tok.decode(ids.slice(0, n))).toBe(text.slice(0, end));
      if (n < ids.length) bytes += bytesOf(ids[n]!);
    }
    expect(bytes).toBe(utf8(text));
    expect(tok.prefixEnd(text, ids, ids.length)).toBe(text.length);
  }

  test('ASCII, accents, CJK and emoji', () => {
    for (const t of [
      'Hello, world! This is a test.',
      'café naïve — “quotes”',
      '中文的文本。日本語 龘靐',
      'ok 😀 🦙 👩‍👩‍👧 done 𠀀',
      '  \n\n\t x',
      '',
    ])
      check(t);
  });

  test('random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => check(s)),
      { numRuns: 400 },
    );
  });
});
