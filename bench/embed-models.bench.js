/**
 * Transformer embedders through our OnnxEmbedder (tokenize → length buckets → worker
 * session.run → pool → normalize), in chunks/s, for random-weight encoders of two real shapes
 * (speed does not depend on the weights; no pretrained weights are reachable here):
 *   - MiniLM (all-MiniLM-L6-v2): hidden 384, 12 heads, FFN 1536, 6 layers, vocabulary 30,522;
 *   - jina-embeddings-v3 (XLM-R large): hidden 1024, 16 heads, FFN 4096, only BENCH_JINA_LAYERS
 *     (default 2) of its 24 layers and a 30,522-row vocabulary (its 250k rows are 1 GB of f32):
 *     the note gives the 24-layer estimate, per-layer cost × 24 (bench/lib/encoder-rate.js).
 * Rows: 1 vs 2 onnxruntime intra-op threads (--embed-threads) and batch sizes 8 / 32
 * (--embed-batch); the baseline is MiniLM at 1 thread, batch 8. Chunks: the corpus chunked with
 * groupSegments(text, 2048), the first BENCH_EMBED_MODEL_CHUNKS (default 48), at most 512 tokens
 * (MiniLM tokenizer fixture), handed to embed() in one call.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupSegments } from '@nextlong/core';
import { createEmbedder } from '@nextlong/embedding';
import { encoderModel } from './lib/encoder-rate.js';

const MINILM = { hidden: 384, heads: 12, ffn: 1536, layers: 6, vocab: 30522, maxPositions: 514 };
const JINA_LAYERS = Number(process.env.BENCH_JINA_LAYERS || 2);
const JINA = { hidden: 1024, heads: 16, ffn: 4096, layers: JINA_LAYERS, vocab: 30522, maxPositions: 514 };
const TOKENIZER = new URL('../packages/embedding/fixtures/minilm-tokenizer.json', import.meta.url);

async function folder(root, name, shape) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.onnx'), encoderModel(shape));
  await copyFile(TOKENIZER, join(dir, 'tokenizer.json'));
  return dir;
}

export default async function embedModelsBench({ corpus }) {
  const { docs } = await corpus();
  const cap = Number(process.env.BENCH_EMBED_MODEL_CHUNKS || 48);
  const chunks = [];
  for (const d of docs) {
    for (const t of groupSegments(d.text, 2048)) if (t.trim() && chunks.length < cap) chunks.push(t);
    if (chunks.length >= cap) break;
  }
  const root = await mkdtemp(join(tmpdir(), 'nextlong-bench-models-'));
  const minilm = await folder(root, 'minilm', MINILM);
  const jina = await folder(root, 'jina', JINA);
  const setups = [
    ['MiniLM shape', minilm, 1, 8],
    ['MiniLM shape', minilm, 1, 32],
    ['MiniLM shape', minilm, 2, 8],
    ['MiniLM shape', minilm, 2, 32],
    [`jina-v3 shape (${JINA_LAYERS} of 24 layers)`, jina, 1, 8],
    [`jina-v3 shape (${JINA_LAYERS} of 24 layers)`, jina, 1, 32],
    [`jina-v3 shape (${JINA_LAYERS} of 24 layers)`, jina, 2, 8],
  ];
  const embedders = [];
  for (const [, model, threads, batchSize] of setups) embedders.push(await createEmbedder({ model, threads, batchSize, maxTokens: 512 }));
  let sink = 0;
  return {
    title: 'embed-models: transformer embedders, 1 vs 2 intra-op threads, batch 8 vs 32 — chunks/s',
    note:
      `${chunks.length} chunks of ≤ 2048 chars, ≤ 512 tokens, one embed() call per round. ` +
      `jina-v3 at 24 layers: about rate × ${JINA_LAYERS}/24 (the layers dominate). Read next to the load average: ` +
      `2 threads only help when a second core is free.`,
    runs: Number(process.env.BENCH_RUNS || 2),
    warmup: 1,
    cases: setups.map(([name, , threads, batch], i) => ({
      name: `${name}, ${threads} thread${threads > 1 ? 's' : ''}, batch ${batch}`,
      unit: 'chunks',
      ...(i === 0 ? { baseline: true } : {}),
      run: async () => {
        sink += (await embedders[i].embed(chunks)).length;
        return chunks.length;
      },
    })),
    after: async () => {
      await Promise.all(embedders.map((e) => e.close()));
      await rm(root, { recursive: true, force: true });
      if (sink < 0) console.log(sink);
    },
  };
}
