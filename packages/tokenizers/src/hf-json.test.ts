import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@nextlong/core';
import fc from 'fast-check';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { gpt2SymbolOfByte } from '@nextlong/testing';
import { createFromTokenizerJson, loadTokenizer } from './index.js';

const docs: { text: string }[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { text: string });

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** Another split: digits one by one, words with their leading space, anything else alone. */
const CUSTOM = ' ?\\p{L}+|\\p{N}|\\s+(?!\\S)|\\s+|[^\\s\\p{L}\\p{N}]';

// ---- a straightforward byte-level BPE, written for the test ----

const symbolOfByte = gpt2SymbolOfByte();

const toSymbols = (piece: string) => [...Buffer.from(piece, 'utf8')].map((b) => symbolOfByte[b]!);
const preTokenize = (text: string, pattern: string) => text.match(new RegExp(pattern, 'gu')) ?? [];

/** BPE of one pre-token: merge the lowest-ranked adjacent pair (leftmost first) until none applies. */
function bpe(symbols: string[], mergeRank: Map<string, number>): string[] {
  const parts = symbols.slice();
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = mergeRank.get(`${parts[i]} ${parts[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return parts;
    parts.splice(best, 2, parts[best]! + parts[best + 1]!);
  }
}

interface TinyBpe {
  vocab: Record<string, number>;
  merges: [string, string][];
  pattern: string;
}

/** Trains `n` merges on `texts` (most frequent pair, ties by the pair's text); never makes one token twice. */
function train(texts: string[], pattern: string, n: number): TinyBpe {
  const freq = new Map<string, number>();
  for (const t of texts) for (const p of preTokenize(t, pattern)) freq.set(p, (freq.get(p) ?? 0) + 1);
  let words = [...freq].map(([p, f]) => ({ parts: toSymbols(p), f }));
  // byte ids permuted so that ids are not byte values
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[symbolOfByte[b]!] = (b * 7 + 3) % 256;
  const merges: [string, string][] = [];
  for (let m = 0; m < n; m++) {
    const pairs = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.parts.length; i++) {
        const k = `${w.parts[i]} ${w.parts[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.f);
      }
    const best = [...pairs]
      .filter(([k]) => vocab[k.replace(' ', '')] === undefined)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best) break;
    const [a, b] = best[0].split(' ') as [string, string];
    merges.push([a, b]);
    vocab[a + b] = 256 + m;
    const rank = new Map([[`${a} ${b}`, 0]]);
    words = words.map((w) => ({ parts: bpe(w.parts, rank), f: w.f }));
  }
  return { vocab, merges, pattern };
}

function referenceEncode(text: string, t: TinyBpe): number[] {
  const rank = new Map(t.merges.map(([a, b], i) => [`${a} ${b}`, i]));
  return preTokenize(text, t.pattern).flatMap((p) => bpe(toSymbols(p), rank).map((s) => t.vocab[s]!));
}

function tokenizerJson(t: TinyBpe, opts: { split?: boolean; mergesAsStrings?: boolean; ignoreMerges?: boolean } = {}) {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: !opts.split };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 1000, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: opts.split
      ? {
          type: 'Sequence',
          pretokenizers: [{ type: 'Split', pattern: { Regex: t.pattern }, behavior: 'Isolated', invert: false }, byteLevel],
        }
      : byteLevel,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: opts.ignoreMerges ?? false,
      vocab: { ...t.vocab, '<|endoftext|>': 1000 },
      merges: opts.mergesAsStrings ? t.merges.map(([a, b]) => `${a} ${b}`) : t.merges,
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'nextlong-hfjson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function write(name: string, json: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(json));
  return f;
}

const sample = docs.slice(0, 12).map((d) => d.text);
const gpt2Bpe = train(sample, GPT2, 200);
const customBpe = train(sample, CUSTOM, 150);

const probes = [
  'Hello world, this is the tokenizer test.',
  "It's the branch's merge; we'll see what they've done.",
  'numbers 12345 and 3.14, code: f(x) = {"a": [1, 2]}',
  'tabs\tand\r\nnewlines\n\n  indented   spaces  ',
  'café 中文 😀 <|endoftext|> ǅ',
  '',
];

describe.each([
  ['Split(GPT-2 regex) + ByteLevel, merges as pairs', gpt2Bpe, { split: true }],
  ['Split(custom regex) + ByteLevel, merges as strings', customBpe, { split: true, mergesAsStrings: true }],
  ['ByteLevel(use_regex) alone', gpt2Bpe, { split: false }],
  ['Split + ByteLevel, ignore_merges', gpt2Bpe, { split: true, ignoreMerges: true }],
] as const)('tokenizer.json: %s', (label, t, opts) => {
  const file = write(`${label.replace(/\W+/g, '-')}.json`, tokenizerJson(t, opts));
  const ours = createFromTokenizerJson(file);
  const hf = HfTokenizer.fromFile(file);

  test('the straightforward BPE agrees with Hugging Face tokenizers (the test is sound)', async () => {
    for (const s of [...probes, ...sample.slice(0, 5)]) {
      if (s.includes('<|')) continue; // the added token is special in HF, plain text for us
      const enc = await hf.encode(s, null, { addSpecialTokens: false });
      expect(enc.getIds()).toEqual(referenceEncode(s, t));
    }
  });

  test('same ids as the straightforward BPE on probes and part of the fixture', () => {
    for (const s of [...probes, ...docs.slice(0, 20).map((d) => d.text)]) expect(Array.from(ours.encode(s))).toEqual(referenceEncode(s, t));
  });

  test('same ids as Hugging Face tokenizers on half of the fixture', async () => {
    for (const d of docs.slice(0, 40))
      expect(Array.from(ours.encode(d.text))).toEqual((await hf.encode(d.text, null, { addSpecialTokens: false })).getIds());
  });

  test('same ids on random strings; decode round-trips; count = ids', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), (a, b) => {
        const s = a + b;
        const ids = ours.encode(s);
        expect(Array.from(ids)).toEqual(referenceEncode(s, t));
        expect(ours.decode(ids)).toBe(s);
        expect(ours.count(s)).toBe(ids.length);
      }),
      { numRuns: 500 },
    );
  });

  test('prefixEnd is on the bytes of the first n tokens', () => {
    const s = 'Merging two branches: café 中文 😀 done.';
    const ids = ours.encode(s);
    for (let n = 0; n <= ids.length; n++) {
      const end = ours.prefixEnd(s, ids, n);
      const decoded = ours.decode(ids.slice(0, n));
      if (!decoded.includes('\ufffd')) expect(s.slice(0, end)).toBe(decoded);
    }
  });
});

describe('tokenizer.json refusals', () => {
  test.each([
    ['not JSON', '{', /cannot read/],
    ['a WordPiece model', { model: { type: 'WordPiece', vocab: {} } }, /only byte-level BPE/],
    ['a normalizer', { ...tokenizerJson(gpt2Bpe), normalizer: { type: 'NFC' } }, /normalizer/],
    ['no byte-level pre-tokenizer', { ...tokenizerJson(gpt2Bpe), pre_tokenizer: { type: 'Whitespace' } }, /not byte-level/],
    [
      'ByteLevel add_prefix_space (would change ids silently)',
      { ...tokenizerJson(gpt2Bpe), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, use_regex: true } },
      /add_prefix_space/,
    ],
    ['missing bytes', { ...tokenizerJson(gpt2Bpe), model: { type: 'BPE', vocab: { a: 0, b: 1 }, merges: ['a b'] } }, /256 bytes/],
  ])('%s → ConfigError', (label, json, message) => {
    const file = join(dir, `bad-${label.replace(/\W+/g, '-')}.json`);
    writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
    expect(() => createFromTokenizerJson(file)).toThrow(ConfigError);
    expect(() => createFromTokenizerJson(file)).toThrow(message);
  });

  test('a missing file through loadTokenizer → ConfigError', () => {
    expect(() => loadTokenizer(join(dir, 'nope.json'))).toThrow(ConfigError);
  });

  test('loadTokenizer accepts a tokenizer.json path', () => {
    const file = write('tokenizer.json', tokenizerJson(gpt2Bpe, { split: true }));
    const t = loadTokenizer(file);
    expect(t.name).toBe(`tokenizer.json:${file}`);
    expect(Array.from(t.encode('Hello world'))).toEqual(referenceEncode('Hello world', gpt2Bpe));
  });
});
