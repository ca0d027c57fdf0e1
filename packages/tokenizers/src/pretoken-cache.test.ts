import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tokenizer } from '@nextlong/core';
import fc from 'fast-check';
import { Tiktoken } from 'tiktoken/lite';
import { ranksText } from './byte-level.js';
import { CachedTokenizer, createFromTokenizerJson, LLAMA3_PATTERN, loadTokenizer, OPENAI_PATTERNS, rawTokenizer } from './index.js';
import { Liveness } from './liveness.js';
import { parsePattern, UnsupportedPattern } from './pattern.js';
import { toJsSource } from './pattern-source.js';

const require = createRequire(import.meta.url);
const docs: string[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text);

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Boundaries where BPE or the split can behave differently in a joined text than in its pieces. */
const ADVERSARIAL = [
  '\n',
  '\n\n',
  '\n\n\n',
  ' ',
  '  ',
  '\t',
  '\r\n',
  '\r',
  '.',
  '."',
  '!\n\n',
  ' \n',
  ' \n\n ',
  ':\n',
  "'s",
  "'S",
  "'ll",
  "'LL",
  "'ſ",
  "'K",
  "'re",
  "don't",
  'x',
  'A',
  '中文的',
  '。',
  '😀',
  '👩‍👩‍👧',
  '🦙🦙',
  'e\u0301',
  '\u0301\u0301',
  '\ufeff',
  '\u2028',
  '\u2029',
  '\u00a0',
  '\u3000',
  '\u0085',
  '\u200b',
  '1',
  '12',
  '12345',
  '٣٤',
  '<|endoftext|>',
  '<|eot_id|>',
  '<|begin_of_text|>',
  '\ud800',
  '\udc00',
  '\ud83d',
  '/',
  '//',
];

const slice = fc
  .tuple(fc.nat(docs.length - 1), fc.nat(4000), fc.nat(400))
  .map(([d, start, len]) => docs[d]!.slice(start % Math.max(1, docs[d]!.length), (start % Math.max(1, docs[d]!.length)) + len));
const part = fc.oneof(
  { weight: 4, arbitrary: slice },
  { weight: 3, arbitrary: fc.constantFrom(...ADVERSARIAL) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);
/** Pieces joined by a separator, as synth joins them, with adversarial pieces and separators. */
const joined = fc
  .tuple(fc.array(part, { minLength: 1, maxLength: 14 }), fc.constantFrom('\n\n', ' ', '', '\n', '. ', ...ADVERSARIAL))
  .map(([pieces, sep]) => pieces.flatMap((p, i) => (i > 0 ? [sep, p] : [p])));

const ids = (a: Uint32Array) => Array.from(a);

function propertyEqualsRaw(tok: Tokenizer, runs: number) {
  expect(tok).toBeInstanceOf(CachedTokenizer);
  const cached = tok as CachedTokenizer;
  const raw = rawTokenizer(tok);
  fc.assert(
    fc.property(joined, (parts) => {
      const want = ids(raw.encode(parts.join('')));
      expect(ids(cached.encode(parts.join('')))).toEqual(want);
      expect(cached.count(parts.join(''))).toBe(want.length);
      expect(ids(cached.encodeParts(parts))).toEqual(want);
      // again, with every piece now cached
      expect(ids(cached.encodeParts(parts))).toEqual(want);
    }),
    { numRuns: runs, seed: 11 },
  );
}

describe.each(['llama3', 'cl100k', 'o200k'])('%s: encodeParts = raw tiktoken encode_ordinary of the joined text', (name) => {
  const tok = loadTokenizer(name);

  test('real slices and adversarial pieces, any separator (property)', () => {
    propertyEqualsRaw(tok, 400);
  });

  test('whole fixture documents joined by "\\n\\n", each placed several times', () => {
    const cached = tok as CachedTokenizer;
    const pieces = docs.flatMap((d) => d.split(/(?<=\n)(?=[^\n])/).slice(0, 6));
    const order = [...pieces, ...pieces.slice().reverse(), ...pieces];
    const parts = order.flatMap((p, i) => (i > 0 ? ['\n\n', p] : [p]));
    const before = cached.slowPaths;
    expect(ids(cached.encodeParts(parts))).toEqual(ids(rawTokenizer(tok).encode(parts.join(''))));
    expect(cached.slowPaths).toBe(before); // real text never needs tiktoken on the whole
  });
});

describe('tokenizer.json (Llama-3 vocabulary and merges from llama3-tokenizer-js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nextlong-pretoken-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as {
    llama3Tokenizer: { vocabById: string[]; merges: Map<string, number> };
  };
  const vocab = Object.fromEntries(source.llama3Tokenizer.vocabById.slice(0, 128000).map((t, i) => [t, i]));
  const merges = [...source.llama3Tokenizer.merges].sort((a, b) => a[1] - b[1]).map(([m]) => m);
  const file = (name: string, pre: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify({ normalizer: null, pre_tokenizer: pre, model: { type: 'BPE', vocab, merges } }));
    return f;
  };

  test.each([
    [
      'Split(Llama-3 regex) + ByteLevel',
      {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: LLAMA3_PATTERN } },
          { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
        ],
      },
    ],
    ['ByteLevel(use_regex): the GPT-2 pattern', { type: 'ByteLevel', add_prefix_space: false, use_regex: true }],
  ])('%s (property)', (label, pre) => {
    const tok = createFromTokenizerJson(file(`${label.replace(/\W+/g, '-')}.json`, pre));
    if (label.startsWith('Split')) expect(ids(tok.encode(docs[0]!))).toEqual(ids(loadTokenizer('llama3').encode(docs[0]!)));
    propertyEqualsRaw(tok, 150);
  });
});

describe('pattern translation', () => {
  test('the OpenAI patterns are the ones shipped with tiktoken', () => {
    for (const name of ['cl100k', 'o200k'] as const)
      expect(OPENAI_PATTERNS[name]).toBe((require(`tiktoken/encoders/${name}_base.json`) as { pat_str: string }).pat_str);
  });

  test('a pattern outside the subset: no splicing, every join goes to tiktoken whole, same ids', () => {
    const raw = rawTokenizer(loadTokenizer('cl100k')) as ConstructorParameters<typeof CachedTokenizer>[0];
    const tok = new CachedTokenizer(raw, '\\w+|\\s+|[^\\w\\s]+');
    expect(tok.splices).toBe(false);
    const parts = [docs[0]!.slice(0, 300), '\n\n', docs[1]!.slice(0, 300)];
    expect(ids(tok.encodeParts(parts))).toEqual(ids(raw.encode(parts.join(''))));
    expect(tok.slowPaths).toBe(1);
    expect((loadTokenizer('llama3') as CachedTokenizer).splices).toBe(true);
  });

  test('unsupported syntax is refused, not guessed', () => {
    for (const p of ['\\w+', '(?i)abc', '^a', 'a++', '(?<=a)b', '\\p{Greek}', '[a&&b]', '\\bx', '(?i:é)'])
      expect(() => parsePattern(p)).toThrow(UnsupportedPattern);
  });

  /** Every code point but surrogates, once. */
  const ALL = (() => {
    const out: string[] = [];
    for (let c = 0; c <= 0x10ffff; c += 4096) {
      const cps: number[] = [];
      for (let d = c; d < c + 4096; d++) if (d < 0xd800 || d > 0xdfff) cps.push(d);
      out.push(String.fromCodePoint(...cps));
    }
    return out.join('');
  })();
  /** tiktoken with one token per byte: encode_ordinary returns exactly the bytes its regex matched. */
  const probe = (pattern: string, text: string) => {
    const bytes = Array.from({ length: 256 }, (_, b) => Buffer.from([b]));
    const enc = new Tiktoken(ranksText(bytes), {}, pattern);
    try {
      return Buffer.from(enc.encode_ordinary(text)).toString('utf8');
    } finally {
      enc.free();
    }
  };
  const ours = (pattern: string, text: string) => (text.match(new RegExp(toJsSource(parsePattern(pattern)), 'g')) ?? []).join('');

  test.each([
    '\\p{L}',
    '\\p{N}',
    '\\p{Lu}',
    '\\p{Ll}',
    '\\p{Lt}',
    '\\p{Lm}',
    '\\p{Lo}',
    '\\p{M}',
    '\\s',
    '\\S',
    '[^\\r\\n\\p{L}\\p{N}]',
    '.',
  ])('%s selects the same code points as tiktoken, all 1,112,064 of them', (cls) => {
    expect(ours(cls, ALL)).toBe(probe(cls, ALL));
  });

  test("(?i:'s|'t|'re|'ve|'m|'ll|'d) folds case like tiktoken", () => {
    const sigma = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 'ſ', 'K', 'ı', 'İ', 'ß', 'ẞ', 'Å'];
    const text = sigma.flatMap((a) => sigma.map((b) => `'${a}${b} `)).join('');
    const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    expect(ours(pattern, text)).toBe(probe(pattern, text));
  });
});

describe('Liveness: pre-tokens marked safe are the same whatever follows', () => {
  const alphabet = ['a', 'B', 's', 'l', 'ſ', "'", '1', '2', ' ', '  ', '\n', '\r', '\t', '.', '/', '中', '😀', '\u0301', '\u00a0', 'x'];
  const str = fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((a) => a.join(''));
  test.each([
    ['llama3', LLAMA3_PATTERN],
    ['o200k', OPENAI_PATTERNS.o200k],
    ['gpt2', GPT2],
    ['lazy and counted', "a{2,3}?'|\\s{1,2}(?=\\S)|[^a]+?\\n|\\p{L}{1,4}|[\\s\\S]"],
  ])('%s (property)', (_, pattern) => {
    const tree = parsePattern(pattern);
    const live = new Liveness(tree);
    const re = new RegExp(toJsSource(tree), 'y');
    const split = (t: string) => {
      const starts: number[] = [];
      re.lastIndex = 0;
      while (re.lastIndex < t.length) {
        const at = re.lastIndex;
        if (!re.test(t)) break;
        starts.push(at);
      }
      return starts;
    };
    fc.assert(
      fc.property(str, str, (r, y) => {
        const own = split(r);
        const safe = live.firstUnsafe(r, own);
        const longer = [...split(r + y), r.length + y.length];
        // the first `safe` pre-tokens of r start at the same places, and the next one too
        expect(longer.slice(0, safe + 1)).toEqual([...own, r.length].slice(0, safe + 1));
      }),
      { numRuns: 3000, seed: 5 },
    );
  });
});
