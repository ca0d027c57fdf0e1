import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isConfigError } from '@nextlong/core';
import { createEmbedder } from './create-embedder.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { tinyBertModel, writeTinyBertFolder } from './testing/index.js';

const TOKENIZER = fileURLToPath(new URL('../fixtures/minilm-tokenizer.json', import.meta.url));
const MINILM_VOCAB = 30_522;

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

let root: string;
let dir: string;
let embedder: OnnxEmbedder;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nextlong-bert-'));
  dir = await writeTinyBertFolder(join(root, 'tiny-bert'), TOKENIZER, { vocabSize: MINILM_VOCAB, hidden: 32, layers: 2, seed: 7 });
  embedder = await OnnxEmbedder.load(dir, { batchSize: 4, maxTokens: 128, threads: 1 });
});

afterAll(async () => {
  await embedder?.close();
  await rm(root, { recursive: true, force: true });
});

const LONG = 'Negative document extension builds long training sequences from many short documents. '.repeat(3);

describe('OnnxEmbedder on a BERT-shaped model', () => {
  test('reads the folder: transformer kind, hidden size as dim, folder name', () => {
    expect(embedder.kind).toBe('transformer');
    expect(embedder.dim).toBe(32);
    expect(embedder.name).toBe('tiny-bert');
    expect(embedder.maxTokens).toBe(128);
  });

  test('a text alone equals the same text padded in a batch of longer texts', async () => {
    const short = 'A short text.';
    const [alone] = await embedder.embed([short]);
    const batch = await embedder.embed([LONG, short, `${LONG} ${LONG}`, 'Another, somewhat longer, sentence about padding.']);
    expect(maxDiff(alone, batch[1])).toBeLessThan(1e-5);
    // and padding does matter to the model: the long texts are not all alike
    expect(dot(batch[0], batch[1])).toBeLessThan(0.999);
  });

  test('unit norm, results in input order', async () => {
    const texts = ['one', LONG, 'two words', 'three little words', 'a b c d e f'];
    const all = await embedder.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      expect(Math.sqrt(dot(all[i], all[i]))).toBeCloseTo(1, 5);
      const [alone] = await embedder.embed([texts[i]]);
      expect(maxDiff(alone, all[i])).toBeLessThan(1e-5);
    }
  });

  test('truncates at maxTokens ([CLS] and [SEP] included)', async () => {
    const short = await OnnxEmbedder.load(dir, { maxTokens: 12, batchSize: 2 });
    const full = await OnnxEmbedder.load(dir, { maxTokens: 512, batchSize: 2 });
    try {
      const tail = ' and then something completely different at the end';
      const [a, b] = await short.embed([LONG, LONG + tail]);
      expect(maxDiff(a, b)).toBeLessThan(1e-6); // both cut to the same first 10 word pieces
      const [c, d] = await full.embed([LONG, LONG + tail]);
      expect(maxDiff(c, d)).toBeGreaterThan(1e-3);
      // a text far beyond the position table (512) still embeds when truncated
      const [huge] = await full.embed(['word '.repeat(5000)]);
      expect(Math.sqrt(dot(huge, huge))).toBeCloseTo(1, 5);
    } finally {
      await Promise.all([short.close(), full.close()]);
    }
  });

  test('overlapping calls give the same bytes as calls made one at a time, each in its own order', async () => {
    // calls of different sizes, so their batches interleave in the worker's queue
    const calls = Array.from({ length: 6 }, (_, c) =>
      Array.from({ length: 3 + 2 * c }, (_, i) => `${'word '.repeat((i * 7 + c * 3) % 23)}text ${c}-${i}. ${i % 3 === 0 ? LONG : ''}`),
    );
    const one: Float32Array[][] = [];
    for (const texts of calls) one.push(await embedder.embed(texts));
    const overlapped = await Promise.all(calls.map((texts) => embedder.embed(texts)));
    const bytes = (vs: Float32Array[]) => Buffer.concat(vs.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
    overlapped.forEach((vs, c) => expect(bytes(vs).equals(bytes(one[c]))).toBe(true));
  });

  test('an abort stops only its own call while others overlap it', async () => {
    const ac = new AbortController();
    const texts = Array.from({ length: 12 }, (_, i) => `text number ${i} ${LONG}`);
    const want = await embedder.embed(texts);
    const before = embedder.embed(texts);
    const aborted = embedder.embed(texts, ac.signal);
    const after = embedder.embed(texts);
    ac.abort();
    await expect(aborted).rejects.toThrow();
    for (const got of [await before, await after]) got.forEach((v, i) => expect(maxDiff(v, want[i])).toBe(0));
  });

  test('the tiny model is deterministic for a seed', () => {
    const a = tinyBertModel({ vocabSize: 100, seed: 3 });
    expect(Buffer.from(a).equals(Buffer.from(tinyBertModel({ vocabSize: 100, seed: 3 })))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(tinyBertModel({ vocabSize: 100, seed: 4 })))).toBe(false);
  });

  test('an aborted signal stops embedding; a closed embedder refuses work', async () => {
    const e = await OnnxEmbedder.load(dir, { batchSize: 1 });
    const ac = new AbortController();
    ac.abort();
    await expect(e.embed(['x'], ac.signal)).rejects.toThrow();
    await e.close();
    await expect(e.embed(['x'])).rejects.toThrow(/closed/);
    await e.close(); // idempotent
  });

  test('empty input gives an empty result', async () => {
    expect(await embedder.embed([])).toEqual([]);
  });
});

describe('model folder errors', () => {
  test('missing tokenizer.json is named', async () => {
    const d = join(root, 'no-tokenizer');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'model.onnx'), tinyBertModel({ vocabSize: 10 }));
    const err = await createEmbedder({ model: d }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(join(d, 'tokenizer.json'));
  });

  test('missing model.onnx is named', async () => {
    const d = join(root, 'no-model');
    await mkdir(d, { recursive: true });
    await copyFile(TOKENIZER, join(d, 'tokenizer.json'));
    const err = await createEmbedder({ model: d }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(join(d, 'model.onnx'));
  });

  test('a corrupt model.onnx is reported with its path', async () => {
    const d = join(root, 'corrupt');
    await mkdir(d, { recursive: true });
    await copyFile(TOKENIZER, join(d, 'tokenizer.json'));
    await writeFile(join(d, 'model.onnx'), 'not a model');
    const err = await createEmbedder({ model: d }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(join(d, 'model.onnx'));
  });
});
