import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from './onnx-proto.js';
import { OrtWorkerSession, type Feed } from './ort-worker.js';
import { staticModelDef } from './static-model.js';
import { StaticTokenizer } from './static-tokenizer.js';

// a static graph over a 4-word table of dimension 2: row 0 is padding
const table = Float32Array.of(0, 0, 1, 0, 0, 1, 3, 4);
let session: OrtWorkerSession;

beforeAll(async () => {
  session = await OrtWorkerSession.open(encodeModel(staticModelDef(table, 2)), { threads: 1 });
});

afterAll(async () => {
  await session?.release();
});

const feeds = (): Record<string, Feed> => {
  const dims = [2, 2];
  return {
    input_ids: { type: 'int64', data: BigInt64Array.of(1n, 2n, 3n, 0n), dims },
    attention_mask: { type: 'int64', data: BigInt64Array.of(1n, 1n, 1n, 0n), dims },
  };
};

describe('OrtWorkerSession', () => {
  test('copies the feeds by default, moves them with transfer: same output', async () => {
    const kept = feeds();
    const a = await session.run(kept, ['embeddings']);
    expect(kept.input_ids.data).toHaveLength(4); // still usable
    const moved = feeds();
    const b = await session.run(moved, ['embeddings'], { transfer: true });
    expect(moved.input_ids.data).toHaveLength(0); // detached: handed to the worker
    expect(moved.attention_mask.data).toHaveLength(0);
    expect(Array.from(b.embeddings.data as Float32Array)).toEqual(Array.from(a.embeddings.data as Float32Array));
    // mean of rows 1 and 2 normalized; row 3 (3, 4) normalized
    const e = Array.from(a.embeddings.data as Float32Array);
    expect(e[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(e[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(e[2]).toBeCloseTo(0.6, 6);
    expect(e[3]).toBeCloseTo(0.8, 6);
  });

  test('a detached feed is refused without breaking the session', async () => {
    const moved = feeds();
    await session.run(moved, ['embeddings'], { transfer: true });
    await expect(session.run(moved, ['embeddings'], { transfer: true })).rejects.toThrow();
    const again = await session.run(feeds(), ['embeddings']);
    expect(again.embeddings.dims).toEqual([2, 2]);
  });

  test('runs posted back to back come back in order', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => session.run(feeds(), ['embeddings'], { transfer: true })));
    for (const r of results) expect(r.embeddings.dims).toEqual([2, 2]);
  });

  test('holds a tokenizer: same ids as this thread, between runs', async () => {
    const words = ['the', 'cat', 'sat', 'not', 'do', 'long-term', ','];
    await session.loadTokenizer(words);
    const texts = ["The cat don't sat, long-term", '', 'Café cat-flap'];
    const [got] = await Promise.all([session.tokenize(texts, 512), session.run(feeds(), ['embeddings'], { transfer: true })]);
    const want = new StaticTokenizer(words).encodeMany(texts, 512);
    expect(Array.from(got.offsets)).toEqual(Array.from(want.offsets));
    expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
    expect(got.ms).toBeGreaterThanOrEqual(0);
  });

  test('loads a tokenizer from a JSON file it reads itself; a missing file is named', async () => {
    const words = ['the', 'cat', 'sat', 'not', 'do', 'long-term', ','];
    const dir = await mkdtemp(join(tmpdir(), 'nextlong-ort-'));
    const other = await OrtWorkerSession.open(encodeModel(staticModelDef(table, 2)), { threads: 1 });
    try {
      await writeFile(join(dir, 'vocab.json'), JSON.stringify(words));
      await other.loadTokenizerFromFile(join(dir, 'vocab.json'));
      const texts = ["The cat don't sat, long-term", '', 'Café cat-flap'];
      const got = await other.tokenize(texts, 512);
      const want = new StaticTokenizer(words).encodeMany(texts, 512);
      expect(Array.from(got.ids)).toEqual(Array.from(want.ids));
      expect(Array.from(got.offsets)).toEqual(Array.from(want.offsets));
      const missing = join(dir, 'missing.json');
      await expect(other.loadTokenizerFromFile(missing)).rejects.toThrow(missing);
    } finally {
      await other.release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('tokenize without a tokenizer fails cleanly', async () => {
    const other = await OrtWorkerSession.open(encodeModel(staticModelDef(table, 2)), { threads: 1 });
    try {
      await expect(other.tokenize(['x'], 1)).rejects.toThrow();
    } finally {
      await other.release();
    }
  });
});
