import { readFileSync } from 'node:fs';
import { loadTokenizer, rawTokenizer } from '@nextlong/tokenizers';
import fc from 'fast-check';
import { countParts, cutToTokens, joinedParts, joinPieces, NoExactCutError, type Piece } from './assemble.js';

const docs: string[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text);

/** The cut with the raw tokenizer and no parts (as before the pre-token cache), or the error's name. */
function cut(tok: ReturnType<typeof loadTokenizer>, pieces: Piece[], sep: string, target: number, withParts: boolean) {
  const j = joinPieces(pieces, sep);
  try {
    return cutToTokens(j.text, j.segments, tok, target, withParts ? joinedParts(pieces, sep) : undefined);
  } catch (err) {
    if (err instanceof NoExactCutError) return err.name;
    throw err;
  }
}

describe.each(['llama3', 'cl100k', 'o200k'])('%s: cutToTokens from parts = cutToTokens of the raw tokenizer', (name) => {
  const tok = loadTokenizer(name);
  const raw = rawTokenizer(tok);
  const piece = fc
    .tuple(fc.nat(docs.length - 1), fc.nat(3000), fc.nat(600), fc.constantFrom('', '.', ' ', '\n', ' 😀', "'s", '中文'))
    .map(([d, s, n, tail]): Piece => ({ type: 'negative', docId: `d${d}`, chunk: s, text: docs[d]!.slice(s, s + n) + tail, score: 0.5 }));

  test('same text, segments and ids at any target (property)', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('\n\n', ' ', '\n', ''),
        fc.double({ min: 0, max: 1.1, noNaN: true }),
        (pieces, sep, at) => {
          const total = raw.count(pieces.map((p) => p.text).join(sep));
          const target = Math.max(1, Math.round(total * at));
          expect(cut(tok, pieces, sep, target, true)).toEqual(cut(raw, pieces, sep, target, false));
        },
      ),
      { numRuns: 150, seed: 3 },
    );
  });

  test('countParts = count of the joined text', () => {
    for (const d of docs.slice(0, 20)) expect(countParts(tok, [d, '\n\n'])).toBe(raw.count(`${d}\n\n`));
  });
});
