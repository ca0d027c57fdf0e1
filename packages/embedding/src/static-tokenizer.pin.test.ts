/**
 * Pins StaticTokenizer.encode to the original (regex + Map) algorithm, kept below verbatim as
 * the reference: same ids, in the same order, for every chunk of the committed corpus fixture,
 * for tricky strings (case and accent folding, clitics, compounds, non-ASCII punctuation,
 * surrogates, final sigma, compatibility forms) and for random strings built from them, at
 * several truncation lengths. Then pins the static embedder's vectors (worker tokenization,
 * pipelined batches, moved buffers, no second normalization) to the original path: reference
 * ids, BigInt padding, a copying session.run and l2Normalize, one text at a time.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { groupSegments } from '@nextlong/core';
import { l2Normalize, lengthBuckets } from './batching.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { OrtWorkerSession } from './ort-worker.js';
import { ensureStaticModel } from './static-model.js';
import { StaticTokenizer } from './static-tokenizer.js';

// ---- the reference: StaticTokenizer as it was before the scanner rewrite (unchanged) ----
const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*(?:-[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*)*|[^\s\p{L}\p{N}]/gu;
const COMBINING_MARKS = /\p{M}+/gu;
const ASCII = /^[\x00-\x7f]*$/;
const CLITICS = new Set(['s', 't', 'll', 're', 've', 'd', 'm']);

function referenceFold(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
}

class ReferenceTokenizer {
  private readonly ids: Map<string, number>;

  constructor(readonly words: readonly string[]) {
    this.ids = new Map(words.map((w, i) => [w, i + 1]));
  }

  encode(text: string, maxTokens = Infinity): number[] {
    const out: number[] = [];
    const folded = referenceFold(text);
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(folded); m && out.length < maxTokens; m = TOKEN.exec(folded)) {
      this.lookup(m[0], out);
    }
    TOKEN.lastIndex = 0;
    if (out.length > maxTokens) out.length = maxTokens;
    return out;
  }

  private lookup(token: string, out: number[]): void {
    const id = this.ids.get(token);
    if (id !== undefined) {
      out.push(id);
    } else if (token.includes('-')) {
      for (const part of token.split('-')) this.lookup(part, out);
    } else if (/['’]/.test(token)) {
      this.lookupClitic(token, out);
    }
  }

  private lookupClitic(token: string, out: number[]): void {
    const [stem, ...rest] = token.split(/['’]/);
    const clitic = rest.join('');
    if (clitic === 't' && stem.endsWith('n') && stem.length > 1) {
      this.lookup(stem.slice(0, -1), out);
      this.lookup('not', out);
    } else if (CLITICS.has(clitic)) {
      this.lookup(stem, out);
    } else {
      this.lookup(stem, out);
      for (const part of rest) this.lookup(part, out);
    }
  }
}
// ---- end of the reference ----

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url));

/** Words that exercise the odd corners: clitics and compounds in the vocabulary, non-ASCII entries. */
const EXTRA = [
  "o'brien",
  "rock'n'roll",
  "don't",
  'n',
  'ca',
  'wo',
  'state-of-the-art',
  'e-mail',
  'straße',
  'ß',
  'σ',
  'ς',
  'σς',
  'οσ',
  'οσς',
  '日本',
  '日本語',
  'café', // never matched: folding removes the accent
  'cafe',
  'ﬁ',
  'fi',
  'ǆ',
  'dž',
  '…',
  '’',
  "'",
  '‘',
  '“',
  '-',
  'ｑ',
  'k',
  'i̇',
  '😀',
  '\ud83d',
  'x\u0301',
  'Upper', // never matched: tokens are lowercased
  'the', // a duplicate: the later id wins, as in a Map
];

const TRICKY = [
  '',
  ' ',
  'The long-term café, (H1N1).',
  "don't can't won't isn't I'm you're we've they'll he'd John's O'Brien o’brien rock'n'roll",
  "n't 'tis dogs' '90s -x x- x--y a-'b a'-b x'y'z a'l'l a'b'c don’t DON'T",
  'state-of-the-art STATE-of-THE-ART e-mail e‐mail e–mail e—mail',
  'Ünïcödé naïve résumé façade Straße STRASSE İstanbul ǅemal',
  'ΣΊΣΥΦΟΣ Σ ΌΣ οΣ οΣς ΑΣ\ufeffΒ ΑΣ ΑΣ.Β ΑΣ\u00a0Β 𝚺 ⅀ ο⅀ ∑',
  'ﬁne ﬂow ½ x² ™ … …… Ⅻ ① ＡＢＣ ｑ ＇ ＂ ﹣ －',
  'e\u0301 x\u0301 \u0301x \u0301 a\u0345b cafe\u0301 caf\u00e9',
  'nbsp\u00a0here ideographic\u3000space em\u2003space zw\u200bsp soft\u00adhyphen bom\ufeffhere nel\u0085line',
  '日本語のテキスト 日本 中文 한국어 한글 Ελληνικά русский',
  '😀 a😀b 😀x \ud83d lone \ude00 surrogates \ud83d\ude00',
  'tab\there\nnew\rline\vvt\fff end.',
  '“quoted” ‘single’ «guillemets» — dash – en • bullet → arrow ℞ € £ ¥',
  'K (Kelvin) Å (Angstrom) Ω (Ohm) ß ẞ ŉ ǰ ΐ',
  '\u0000\u0001\u001f\u007f control',
  'a'.repeat(30) + '-' + 'b'.repeat(3) + "'" + 'c',
  'x,y.z;w:v!u?t',
];

/** Characters random strings are built from: every class the scanner tells apart. */
const ALPHABET = [
  ...'abcnotsdlmrvek ABNST019',
  "'",
  '’',
  '-',
  '‐',
  ',',
  '.',
  '(',
  '\t',
  '\n',
  '\u00a0',
  '\u3000',
  '\ufeff',
  '\u200b',
  'é',
  'É',
  '\u0301',
  '\u0345',
  'ß',
  'İ',
  'Σ',
  'ο',
  'ς',
  '⅀',
  'ﬁ',
  '…',
  'ǅ',
  'ｑ',
  '－',
  '＇',
  '日',
  '本',
  '한',
  '😀',
  '\ud83d',
  '\ude00',
  '“',
  '—',
];

let root: string;
let modelDir: string;
let vocab: string[];
let words: string[];
let reference: ReferenceTokenizer;
let tokenizer: StaticTokenizer;

beforeAll(async () => {
  // a static model on the 30k most frequent GloVe words (quick to build)
  root = await mkdtemp(join(tmpdir(), 'nextlong-pin-'));
  modelDir = await ensureStaticModel(join(root, 'small'), { vocabSize: 30_000 });
  vocab = JSON.parse(await readFile(join(modelDir, 'vocab.json'), 'utf8')) as string[];
  words = [...vocab, ...EXTRA, ...[...'abcdelmnorstvk019']];
  reference = new ReferenceTokenizer(words);
  tokenizer = new StaticTokenizer(words);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function fixtureTexts(): string[] {
  const texts: string[] = [];
  for (const line of readFileSync(FIXTURE, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { text } = JSON.parse(line) as { text: string };
    texts.push(...groupSegments(text, 2048).filter((t) => t.trim() !== ''));
  }
  return texts;
}

const expectSame = (text: string, maxTokens?: number) => {
  const want = reference.encode(text, maxTokens);
  const got = tokenizer.encode(text, maxTokens);
  if (got.length !== want.length || got.some((x, i) => x !== want[i])) {
    expect({ text, maxTokens, got }).toEqual({ text, maxTokens, got: want });
  }
};

describe('StaticTokenizer matches the original algorithm', () => {
  test('every 2048-char chunk of the corpus fixture, at 512 tokens and untruncated', () => {
    const texts = fixtureTexts();
    expect(texts.length).toBeGreaterThan(300);
    let tokens = 0;
    for (const t of texts) {
      expectSame(t, 512);
      expectSame(t);
      tokens += reference.encode(t).length;
    }
    expect(tokens).toBeGreaterThan(100_000); // the vocabulary really matches most of the text
  });

  test('whole fixture documents, at several truncation lengths', () => {
    for (const line of readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 20)) {
      if (!line.trim()) continue;
      const { text } = JSON.parse(line) as { text: string };
      for (const max of [1, 7, 64, 512, Infinity]) expectSame(text, max);
    }
  });

  test('long texts: truncation found in a prefix, or only after it', () => {
    const doc = readFileSync(FIXTURE, 'utf8');
    for (const max of [1, 10, 100, 512]) expectSame(doc, max);
    const late = 'zzqx '.repeat(20_000) + 'the cat. '.repeat(20) + 'Don’t';
    for (const max of [1, 5, 60, 512, Infinity]) expectSame(late, max);
    const unbroken = 'x'.repeat(50_000) + ' the end';
    for (const max of [1, 2, 3]) expectSame(unbroken, max);
  });

  test('tricky strings, alone, joined and at every truncation length', () => {
    for (const t of TRICKY) {
      for (let max = 0; max <= 40; max++) expectSame(t, max);
      expectSame(t);
      expectSame(t.toUpperCase());
    }
    expectSame(TRICKY.join(' '));
    expectSame(TRICKY.join(''));
    expectSame(TRICKY.join('\n'), 100);
  });

  test('random strings over the tricky alphabet', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ALPHABET), { maxLength: 60 }).map((cs) => cs.join('')),
        fc.integer({ min: 0, max: 30 }),
        (text, max) => {
          expectSame(text);
          expectSame(text, max);
        },
      ),
      { numRuns: 5000, seed: 42 },
    );
  });

  test('random words around every vocabulary shape', () => {
    const shaped = fc.constantFrom(...words.filter((_, i) => i % 97 === 0), ...EXTRA);
    const sep = fc.constantFrom(' ', '-', "'", '’', '', ',', ' - ', 'é', '\u0301', 'Σ', '\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(shaped, sep), { maxLength: 20 }), (parts) => {
        const text = parts.map(([w, s]) => w + s).join('');
        expectSame(text);
        expectSame(text.toUpperCase());
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

describe('the onnxruntime worker tokenizes like this thread', () => {
  test('loadTokenizer + tokenize give the same ids as encodeMany, for every fixture chunk', async () => {
    const texts = [...fixtureTexts(), ...TRICKY];
    const session = await OrtWorkerSession.open(join(modelDir, 'model.onnx'), { threads: 1 });
    try {
      await session.loadTokenizer(words);
      for (const max of [512, Infinity]) {
        const got = await session.tokenize(texts, max);
        const want = tokenizer.encodeMany(texts, max);
        expect(Array.from(got.offsets)).toEqual(Array.from(want.offsets));
        expect(
          Buffer.from(got.ids.buffer, got.ids.byteOffset, got.ids.byteLength).equals(
            Buffer.from(want.ids.buffer, want.ids.byteOffset, want.ids.byteLength),
          ),
        ).toBe(true);
        texts.forEach((t, i) =>
          expect(Array.from(want.ids.subarray(want.offsets[i], want.offsets[i + 1]))).toEqual(reference.encode(t, max)),
        );
      }
    } finally {
      await session.release();
    }
  });
});

describe('static embeddings match the original path', () => {
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

  test('every fixture chunk, embedded in calls of 256 with batch 64, within 1e-6', async () => {
    const texts = [...fixtureTexts(), ...TRICKY];
    const vocabReference = new ReferenceTokenizer(vocab);
    // the original embed(): reference ids, the same length buckets, BigInt padding, a copying
    // run, then l2Normalize of the (already normalized) output; and each text alone, unpadded
    const session = await OrtWorkerSession.open(join(modelDir, 'model.onnx'), { threads: 1 });
    const run = async (encoded: number[][]): Promise<Float32Array[]> => {
      const rows = encoded.length;
      const cols = Math.max(1, ...encoded.map((e) => e.length));
      const data = new BigInt64Array(rows * cols);
      const mask = new BigInt64Array(rows * cols);
      encoded.forEach((e, r) => e.forEach((id, c) => ((data[r * cols + c] = BigInt(id)), (mask[r * cols + c] = 1n))));
      const dims = [rows, cols];
      const out = await session.run({ input_ids: { type: 'int64', data, dims }, attention_mask: { type: 'int64', data: mask, dims } }, [
        'embeddings',
      ]);
      return encoded.map((_, r) => l2Normalize((out.embeddings.data as Float32Array).slice(r * 100, (r + 1) * 100)));
    };
    const want: Float32Array[] = [];
    const alone: Float32Array[] = [];
    try {
      for (let from = 0; from < texts.length; from += 256) {
        const encoded = texts.slice(from, from + 256).map((t) => vocabReference.encode(t, 512));
        for (const rows of lengthBuckets(
          encoded.map((ids) => ({ ids })),
          64,
        )) {
          const vectors = await run(rows.map((i) => encoded[i]));
          rows.forEach((i, r) => (want[from + i] = vectors[r]));
        }
        for (const e of encoded) alone.push((await run([e]))[0]);
      }
    } finally {
      await session.release();
    }
    const withWorker = await OnnxEmbedder.load(modelDir, { batchSize: 64, maxTokens: 512, threads: 1 });
    const thisThread = await OnnxEmbedder.load(modelDir, { batchSize: 64, maxTokens: 512, threads: 1, tokenizeInWorker: false });
    try {
      expect(withWorker.tokenizesInWorker).toBe(true);
      expect(thisThread.tokenizesInWorker).toBe(false);
      for (let from = 0; from < texts.length; from += 256) {
        const call = texts.slice(from, from + 256);
        const [a, b] = await Promise.all([withWorker.embed(call), thisThread.embed(call)]);
        call.forEach((_, i) => {
          expect(maxDiff(a[i], want[from + i])).toBeLessThan(1e-6);
          // a text's vector hardly depends on its batch (float sums in another order)
          expect(maxDiff(a[i], alone[from + i])).toBeLessThan(1e-5);
          expect(
            Buffer.from(a[i].buffer, a[i].byteOffset, a[i].byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)),
          ).toBe(true);
        });
      }
    } finally {
      await Promise.all([withWorker.close(), thisThread.close()]);
    }
  }, 60_000);
});
