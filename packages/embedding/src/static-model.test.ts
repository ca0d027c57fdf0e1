import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigError } from '@nextlong/core';
import { createEmbedder } from './create-embedder.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { buildStaticModel, defaultStaticModelDir, ensureStaticModel, readStaticManifest, STATIC_MODEL_NAME } from './static-model.js';

// a small cap keeps the build under a second; every word used below ranks within it
const SMALL = { vocabSize: 30_000 };

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

let root: string;
let dir: string;
let embedder: OnnxEmbedder;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nextlong-static-'));
  dir = await ensureStaticModel(join(root, 'small'), SMALL);
  embedder = await OnnxEmbedder.load(dir, { batchSize: 2, threads: 1 });
});

afterAll(async () => {
  await embedder?.close();
  await rm(root, { recursive: true, force: true });
});

describe('static model build', () => {
  test('writes model.onnx, vocab.json and the manifest, no temp files', async () => {
    expect((await readdir(dir)).sort()).toEqual(['model.onnx', 'static.json', 'vocab.json']);
    const manifest = await readStaticManifest(dir);
    expect(manifest).toMatchObject({ name: STATIC_MODEL_NAME, dim: 100, vocabSize: 30_000, vocabCap: 30_000, sifA: 1e-3 });
    const vocab = JSON.parse(await readFile(join(dir, 'vocab.json'), 'utf8')) as string[];
    expect(vocab.slice(0, 3)).toEqual(['the', ',', '.']);
    expect(vocab).toHaveLength(30_000);
  });

  test('the model bytes are identical across builds', async () => {
    const again = await buildStaticModel(SMALL);
    const file = await readFile(join(dir, 'model.onnx'));
    expect(Buffer.from(again.model).equals(file)).toBe(true);
    expect(again.manifest.modelSha256).toBe((await readStaticManifest(dir))?.modelSha256);
  });

  test('a complete folder is reused, not rebuilt', async () => {
    const before = (await stat(join(dir, 'model.onnx'))).mtimeMs;
    await ensureStaticModel(dir, SMALL);
    expect((await stat(join(dir, 'model.onnx'))).mtimeMs).toBe(before);
  });

  test('concurrent ensures of one folder share one build', async () => {
    const d = join(root, 'concurrent');
    const [a, b] = await Promise.all([ensureStaticModel(d, { vocabSize: 2000 }), ensureStaticModel(d, { vocabSize: 2000 })]);
    expect(a).toBe(b);
    expect((await readdir(d)).sort()).toEqual(['model.onnx', 'static.json', 'vocab.json']);
  });

  test('non-default options get their own default folder', () => {
    expect(defaultStaticModelDir()).toMatch(/static-glove100-v1$/);
    expect(defaultStaticModelDir(SMALL)).toMatch(/static-glove100-v1-n30000-a0\.001-c1$/);
  });
});

describe('static embeddings', () => {
  test('unit norm, dimension 100', async () => {
    const [v] = await embedder.embed(['The river flows through the old city.']);
    expect(embedder.dim).toBe(100);
    expect(v).toHaveLength(100);
    expect(norm(v)).toBeCloseTo(1, 5);
  });

  test('similar sentences score higher than unrelated ones', async () => {
    const [cat, kitten, stocks, markets] = await embedder.embed([
      'The cat slept on the sofa all afternoon.',
      'A kitten was sleeping on the couch.',
      'Stock prices fell sharply as investors sold shares.',
      'Markets dropped after traders sold their stocks.',
    ]);
    expect(dot(cat, kitten)).toBeGreaterThan(dot(cat, stocks) + 0.1);
    expect(dot(cat, kitten)).toBeGreaterThan(dot(cat, markets) + 0.1);
    expect(dot(stocks, markets)).toBeGreaterThan(dot(kitten, markets) + 0.1);
  });

  test('a text with no known words gives a zero vector, never NaN', async () => {
    const [unknown, empty, known] = await embedder.embed(['zzqxv 123456 日本語', '', 'the city']);
    expect(Array.from(unknown).every((x) => x === 0)).toBe(true);
    expect(Array.from(empty).every((x) => x === 0)).toBe(true);
    expect(norm(known)).toBeCloseTo(1, 5);
  });

  test('results keep input order and do not depend on batching', async () => {
    const texts = ['short', 'a much longer sentence about rivers, mountains and the sea', 'medium length text here', 'x'];
    const together = await embedder.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await embedder.embed([texts[i]]);
      alone.forEach((x, d) => expect(together[i][d]).toBeCloseTo(x, 5));
    }
  });
});

describe('createEmbedder("static")', () => {
  test('builds the default model (100k words) into $NEXTLONG_CACHE on first use', async () => {
    const saved = process.env.NEXTLONG_CACHE;
    process.env.NEXTLONG_CACHE = join(root, 'cache');
    try {
      const e = await createEmbedder({ model: 'static', batchSize: 64, maxTokens: 512, threads: 1 });
      try {
        expect(e.name).toBe(STATIC_MODEL_NAME);
        const folder = join(root, 'cache', 'models', STATIC_MODEL_NAME);
        expect((await readStaticManifest(folder))?.vocabSize).toBe(100_000);
        const [v] = await e.embed(['Photosynthesis converts sunlight into chemical energy.']);
        expect(norm(v)).toBeCloseTo(1, 5);
      } finally {
        await e.close();
      }
    } finally {
      if (saved === undefined) delete process.env.NEXTLONG_CACHE;
      else process.env.NEXTLONG_CACHE = saved;
    }
  }, 60_000);

  test('a folder without a model gives a ConfigError naming the file', async () => {
    const err = await createEmbedder({ model: join(root, 'nothing-here') }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain(join(root, 'nothing-here'));
    const bad = await createEmbedder({ model: 'static', cacheDir: dir, staticModel: SMALL, batchSize: 0 }).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/batchSize must be an integer >= 1/);
  });
});
