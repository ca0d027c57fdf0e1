import fc from 'fast-check';
import { decodeUtf8, parseRecord } from './records.js';

const fatal = new TextDecoder('utf-8', { fatal: true });
/** What the reader did before decodeUtf8: a fatal TextDecoder, undefined where it throws. */
function viaTextDecoder(b: Buffer): string | undefined {
  try {
    return fatal.decode(b);
  } catch {
    return undefined;
  }
}

// bytes that make UTF-8 go wrong: lone continuations, overlongs, encoded surrogates, > U+10FFFF, BOMs, cut sequences
const tricky = fc.constantFrom(
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xef, 0xbb, 0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xe2, 0x80, 0xa8],
  [0x22, 0x5c],
);
const bytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 6 }).map((a) => [...a]),
      tricky,
      fc.string({ unit: 'grapheme', maxLength: 4 }).map((s) => [...Buffer.from(s)]),
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => Buffer.from(parts.flat()));

describe('decodeUtf8', () => {
  test('property: agrees with a fatal TextDecoder on any bytes (valid or not, with or without a BOM)', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decodeUtf8(b)).toBe(viaTextDecoder(b));
      }),
      { numRuns: 3000 },
    );
  });

  test('a leading byte order mark is dropped, a later one kept; invalid bytes are rejected naming the line', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(decodeUtf8(Buffer.concat([bom, Buffer.from('{"text":"a"}')]))).toBe('{"text":"a"}');
    expect(decodeUtf8(Buffer.concat([Buffer.from('a'), bom]))).toBe('a\ufeff');
    const raw = { line: 12, bytes: Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]) };
    expect(() => parseRecord(raw, { textField: 'text', idField: 'id', maxRecordChars: 100, shardId: 's' })).toThrow(
      expect.objectContaining({ name: 'BadInputError', reason: 'invalid_utf8', message: 'line 12: invalid UTF-8' }),
    );
  });
});
