import fc from 'fast-check';
import { cl100kAsciiSplit } from './ascii-split.js';
import { LLAMA3_PATTERN } from './llama3.js';
import { OPENAI_PATTERNS } from './openai-patterns.js';
import { parsePattern } from './pattern.js';
import { toJsSource } from './pattern-source.js';

const sticky = new RegExp(toJsSource(parsePattern(LLAMA3_PATTERN)), 'y');

/** The regex's pre-token end at pos (the reference). */
function regexEnd(text: string, pos: number): number {
  sticky.lastIndex = pos;
  return sticky.test(text) ? sticky.lastIndex : -1;
}

/** Every ASCII character, the apostrophe contractions, and non-ASCII neighbours of each class. */
const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
const tricky = ["'s", "'T", "'re", "'VE", "'ll", "'Ld", "'m", "'d", "'r", "'x", "' ", '  ', ' \n', '\r\n', '\n\n', '123', '4567'];
const nonAscii = ['é', 'ſ', 'K', '²', '٣', '—', '…', '\u00a0', '\u2003', '\u3000', '\u0085', '中', '😀', '\ud800', '\u0301'];
const unit = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ascii) }, { weight: 3, arbitrary: fc.constantFrom(...tricky) }, { weight: 1, arbitrary: fc.constantFrom(...nonAscii) });

test('llama3 and cl100k share the pattern the scanner implements', () => {
  expect(OPENAI_PATTERNS.cl100k).toBe(LLAMA3_PATTERN);
});

test('at every position the scanner gives the regex’s pre-token end, or -1', () => {
  let answered = 0;
  let positions = 0;
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 30 }), (units) => {
      const text = units.join('');
      for (let pos = 0; pos < text.length; pos++) {
        const got = cl100kAsciiSplit(text, pos);
        positions++;
        if (got === -1) continue;
        answered++;
        expect([text, pos, got]).toEqual([text, pos, regexEnd(text, pos)]);
      }
    }),
    { numRuns: 3000 },
  );
  // it must answer most positions, or it is no faster than the regex
  expect(answered / positions).toBeGreaterThan(0.6);
});

test('on plain English it answers every position', () => {
  const text = "It's 2024: the cat's   toy (a ball) isn't THERE'LL be...\r\n\n  \tWe'VE  seen 12345 items!\n";
  for (let pos = 0; pos < text.length; pos++) expect(cl100kAsciiSplit(text, pos)).toBe(regexEnd(text, pos));
});
