import fc from 'fast-check';
import { groupSegments } from './chunker.js';

/**
 * A literal transcription of the reference Python `group_segments(text, max_length)`
 * (DESIGN §3.1): `len(seg)` counts code points, hence `[...seg].length`.
 */
function referenceGroupSegments(text: string, maxLength = 2048): string[] {
  const segments = text.split('\n');
  const grouped: string[] = [];
  let currentGroup: string[] = [];
  let currentLength = 0;
  for (const seg of segments) {
    const segLength = [...seg].length;
    if (currentLength + segLength > maxLength) {
      if (currentLength !== 0) grouped.push(currentGroup.join('\n'));
      currentGroup = [seg];
      currentLength = segLength;
    } else {
      currentGroup.push(seg);
      currentLength += segLength;
    }
  }
  if (currentGroup.length > 0) grouped.push(currentGroup.join('\n'));
  return grouped;
}

describe('groupSegments: the examples of DESIGN §3.1', () => {
  test('max=8: "aaaa\\nbbbb\\ncccc"', () => {
    expect(groupSegments('aaaa\nbbbb\ncccc', 8)).toEqual(['aaaa\nbbbb', 'cccc']);
  });
  test('max=10: leading empty segments before an over-long line are dropped', () => {
    expect(groupSegments('\n\nXXXXXXXXXXXX\nyy', 10)).toEqual(['XXXXXXXXXXXX', 'yy']);
  });
  test('a trailing newline is kept', () => {
    expect(groupSegments('aa\n', 8)).toEqual(['aa\n']);
  });
  test('the empty text is one empty chunk', () => {
    expect(groupSegments('', 8)).toEqual(['']);
    expect(groupSegments('')).toEqual(['']);
  });
});

describe('groupSegments: edge cases', () => {
  test('the default max length is 2048 code points', () => {
    const a = 'a'.repeat(1024);
    expect(groupSegments(`${a}\n${a}`)).toEqual([`${a}\n${a}`]);
    expect(groupSegments(`${a}\n${a}a`)).toEqual([a, `${a}a`]);
  });

  test('the comparison is strict: exactly max stays in the group', () => {
    expect(groupSegments('aaaa\nbbbb', 8)).toEqual(['aaaa\nbbbb']);
    expect(groupSegments('aaaa\nbbbbb', 8)).toEqual(['aaaa', 'bbbbb']);
    expect(groupSegments('aaaaaaaa', 8)).toEqual(['aaaaaaaa']);
  });

  test('newlines are not counted in the running length', () => {
    // 8 one-character lines: 8 code points plus 7 newlines still fit max=8
    const text = 'a\nb\nc\nd\ne\nf\ng\nh';
    expect(groupSegments(text, 8)).toEqual([text]);
    expect(groupSegments(`${text}\ni`, 8)).toEqual([text, 'i']);
  });

  test('lengths are code points, not UTF-16 units (astral characters count once)', () => {
    const e4 = '😀😀😀😀'; // 4 code points, 8 UTF-16 units
    expect(e4.length).toBe(8);
    expect(groupSegments(`${e4}\n${e4}`, 8)).toEqual([`${e4}\n${e4}`]);
    expect(groupSegments(`${e4}\n${e4}😀`, 8)).toEqual([e4, `${e4}😀`]);
    // CJK extension B (astral) and a flag (two regional indicators = two code points)
    expect(groupSegments('𠀀𠀁𠀂\n𠀃𠀄', 5)).toEqual(['𠀀𠀁𠀂\n𠀃𠀄']);
    expect(groupSegments('🇫🇷🇩🇪\nab', 5)).toEqual(['🇫🇷🇩🇪', 'ab']);
    // a combining sequence is several code points (not one grapheme)
    expect(groupSegments('e\u0301e\u0301\nab', 4)).toEqual(['e\u0301e\u0301', 'ab']);
  });

  test('a lone surrogate counts as one code point, as in [...s]', () => {
    expect(groupSegments('\ud800\ud800\nab', 4)).toEqual(['\ud800\ud800\nab']);
    expect(groupSegments('\ud800\ud800\nabc', 4)).toEqual(['\ud800\ud800', 'abc']);
    expect(groupSegments('\udc00\ud800x\nab', 4)).toEqual(['\udc00\ud800x', 'ab']);
  });

  test("'\\r' is ordinary text: it is counted and never splits", () => {
    expect(groupSegments('aaa\r\nbbb\r\nccc', 8)).toEqual(['aaa\r\nbbb\r', 'ccc']);
    expect(groupSegments('aaaa\r\nbbbb', 8)).toEqual(['aaaa\r', 'bbbb']);
    expect(groupSegments('a\rb\rc', 2)).toEqual(['a\rb\rc']);
  });

  test('an over-long paragraph is kept whole, never split', () => {
    const long = 'x'.repeat(50);
    expect(groupSegments(long, 8)).toEqual([long]);
    expect(groupSegments(`ab\n${long}\ncd`, 8)).toEqual(['ab', long, 'cd']);
    expect(groupSegments(`${long}\n${long}`, 8)).toEqual([long, long]);
  });

  test('a group made only of empty segments is dropped', () => {
    // after an over-long line, the empty segment opens a group of running length 0
    expect(groupSegments('XXXXXXXXX\n\nYYYYYYYYY', 8)).toEqual(['XXXXXXXXX', 'YYYYYYYYY']);
    expect(groupSegments('XXXXXXXXX\n\n\n\nYYYYYYYYY', 8)).toEqual(['XXXXXXXXX', 'YYYYYYYYY']);
    expect(groupSegments('\n\n\nXXXXXXXXX', 8)).toEqual(['XXXXXXXXX']);
  });

  test('empty segments that fit are kept inside their group', () => {
    expect(groupSegments('\n\nab', 8)).toEqual(['\n\nab']);
    expect(groupSegments('aa\n\n\nbb', 8)).toEqual(['aa\n\n\nbb']);
    expect(groupSegments('aaaaaaaa\n\n\nbbbbbbbbb', 8)).toEqual(['aaaaaaaa\n\n', 'bbbbbbbbb']);
    expect(groupSegments('XXXXXXXXX\n\n\nyy', 8)).toEqual(['XXXXXXXXX', '\n\nyy']);
  });

  test('trailing newlines are kept; a final empty-only group is flushed', () => {
    expect(groupSegments('aaaa\nbbbb\n', 8)).toEqual(['aaaa\nbbbb\n']);
    expect(groupSegments('aaaa\nbbbb\ncccc\n', 8)).toEqual(['aaaa\nbbbb', 'cccc\n']);
    expect(groupSegments('aa\n\n\n', 8)).toEqual(['aa\n\n\n']);
    // the end flushes any group that has a segment, even an empty one
    expect(groupSegments('XXXXXXXXX\n', 8)).toEqual(['XXXXXXXXX', '']);
    expect(groupSegments('XXXXXXXXX\n\n', 8)).toEqual(['XXXXXXXXX', '\n']);
  });

  test('all-newline texts are one chunk equal to the text', () => {
    for (const n of [1, 2, 3, 10, 5000]) {
      const text = '\n'.repeat(n);
      expect(groupSegments(text, 8)).toEqual([text]);
      expect(groupSegments(text, 1)).toEqual([text]);
      expect(groupSegments(text)).toEqual([text]);
    }
  });

  test('max length 1', () => {
    expect(groupSegments('a\nb\nc', 1)).toEqual(['a', 'b', 'c']);
    expect(groupSegments('a\n\nb', 1)).toEqual(['a\n', 'b']);
    expect(groupSegments('ab\n\nc', 1)).toEqual(['ab', '\nc']);
    expect(groupSegments('ab\n\ncd', 1)).toEqual(['ab', 'cd']);
  });

  test('chunks are substrings of the text, in order', () => {
    const text = 'alpha\nbeta\n\ngamma delta\n😀😀😀\n\r\nomega\n';
    let at = 0;
    for (const c of groupSegments(text, 6)) {
      const i = text.indexOf(c, at);
      expect(i).toBeGreaterThanOrEqual(at);
      at = i + c.length;
    }
  });
});

// ---- property test against the reference transcription ----

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('\n', '\n', '\n\n', '\n\n\n\n', '\r\n', '\r', ' ', '\t') },
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom('中文字', 'русский', 'ελληνικά', 'עברית', 'हिन्दी', 'e\u0301', 'ﬁ', 'Ⅻ') },
  { weight: 3, arbitrary: fc.constantFrom('😀', '🦙', '👩‍👩‍👧', '🇫🇷', '𠀀𠀁', '𝔘𝔫𝔦', '\u{10FFFF}') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udc00', '\ud83d') }, // lone surrogates
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom('x', 'é', '漢', '😀', 'ab '), fc.integer({ min: 10, max: 300 })).map(([s, n]) => s.repeat(n)), // long lines
  },
);

const textArb = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));
const maxArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 400 }), fc.constant(2048));

describe('groupSegments equals the reference transcription', () => {
  test('random texts: mixed scripts, emoji, \\r\\n, long lines, blank lines', () => {
    fc.assert(
      fc.property(textArb, maxArb, (text, max) => {
        expect(groupSegments(text, max)).toEqual(referenceGroupSegments(text, max));
      }),
      { numRuns: 3000 },
    );
  });

  test('random texts made mostly of newlines', () => {
    const arb = fc.array(fc.constantFrom('\n', '\n', '\n', 'a', '😀', '\r', ''), { maxLength: 80 }).map((p) => p.join(''));
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 6 }), (text, max) => {
        expect(groupSegments(text, max)).toEqual(referenceGroupSegments(text, max));
      }),
      { numRuns: 3000 },
    );
  });

  test('the reference transcription itself reproduces the DESIGN examples', () => {
    expect(referenceGroupSegments('aaaa\nbbbb\ncccc', 8)).toEqual(['aaaa\nbbbb', 'cccc']);
    expect(referenceGroupSegments('\n\nXXXXXXXXXXXX\nyy', 10)).toEqual(['XXXXXXXXXXXX', 'yy']);
    expect(referenceGroupSegments('aa\n', 8)).toEqual(['aa\n']);
    expect(referenceGroupSegments('', 8)).toEqual(['']);
  });
});
