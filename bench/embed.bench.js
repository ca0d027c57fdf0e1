/**
 * (c) The embed stage's throughput in chunks/s: our OnnxEmbedder (static model, batch 64,
 * 512 tokens, 1 intra-op thread: tokenize + length-bucket + pad + worker session.run +
 * normalize) vs raw onnxruntime `session.run` on the SAME pre-tokenized, pre-padded batches
 * (an InferenceSession created directly on the cached static model.onnx, same session options,
 * int64 tensors built once). Goal: ratio ≥ 0.85.
 *
 * Chunks: every document of the corpus chunked with groupSegments(text, 2048), blank chunks
 * dropped, handed to `embed()` in the groups the embed step uses (a flush once ≥ 4 × batch
 * chunks are pending, after a whole document: packages/pipeline/src/steps/embed.ts), so the
 * batches are exactly the pipeline's, and called the way the step calls it: group i + 1 is
 * handed over before group i's vectors are awaited (at most two calls in progress), so one
 * group is tokenized while the model runs the previous one. "one call at a time" awaits each
 * call before the next (no overlap across calls). The extra rows split the embedder's time:
 *   - tokenize only:       StaticTokenizer.encode of every chunk (main thread in the embedder);
 *   - tokenize + pad:      encode + lengthBuckets + padBatch (all main-thread prep);
 *   - worker run only:     OrtWorkerSession.run on the pre-padded batches (worker hop + copies).
 *
 * BENCH_EMBED_CHUNKS=<n> caps the chunks (default: all of them, ~14k on the shared corpus).
 */
import { join } from 'node:path';
import { groupSegments } from '@nextlong/core';
import { createEmbedder, ensureStaticModel, OrtWorkerSession, StaticTokenizer } from '@nextlong/embedding';
import ort from 'onnxruntime-node';
// not exported by the package: imported from its build so the batches are exactly the embedder's
import { lengthBuckets, padBatch } from '../packages/embedding/dist/batching.js';

const BATCH = 64;
const MAX_TOKENS = 512;
const CHUNK_CHARS = 2048;
const GROUP = BATCH * 4; // the embed step's flush size (embedBatch × 4)

/** Chunk texts grouped the way embedShard hands them to embed(). */
function embedStepGroups(docs, cap) {
  const groups = [];
  let pending = [];
  let total = 0;
  for (const d of docs) {
    for (const text of groupSegments(d.text, CHUNK_CHARS)) {
      if (text.trim() !== '' && total < cap) {
        pending.push(text);
        total++;
      }
    }
    if (pending.length >= GROUP) {
      groups.push(pending);
      pending = [];
    }
    if (total >= cap) break;
  }
  if (pending.length) groups.push(pending);
  return { groups, total };
}

export default async function embedBench({ corpus }) {
  const { docs } = await corpus();
  const cap = Number(process.env.BENCH_EMBED_CHUNKS || Infinity);
  const { groups, total } = embedStepGroups(docs, cap);

  const dir = await ensureStaticModel();
  const embedder = await createEmbedder({ model: 'static', batchSize: BATCH, maxTokens: MAX_TOKENS, threads: 1 });
  const tokenizer = await StaticTokenizer.fromFile(join(dir, 'vocab.json'));
  // the same options the embedder's worker gives onnxruntime (ort-worker.ts)
  const sessionOptions = { interOpNumThreads: 1, intraOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), sessionOptions);
  const worker = await OrtWorkerSession.open(join(dir, 'model.onnx'), { threads: 1 });

  const encodeGroup = (texts) => texts.map((t) => ({ ids: tokenizer.encode(t, MAX_TOKENS) }));
  const padded = groups.flatMap((texts) => {
    const encoded = encodeGroup(texts);
    return lengthBuckets(encoded, BATCH).map((b) => padBatch(b.map((i) => encoded[i])));
  });
  const tensors = padded.map((b) => ({
    input_ids: new ort.Tensor('int64', b.ids, [b.rows, b.cols]),
    attention_mask: new ort.Tensor('int64', b.mask, [b.rows, b.cols]),
  }));
  const tokens = padded.reduce((s, b) => s + b.mask.reduce((a, x) => a + Number(x), 0), 0);
  const cells = padded.reduce((s, b) => s + b.rows * b.cols, 0);

  // sanity: the embedder and the raw session agree on the first batch
  {
    const first = groups[0].slice(0, 4);
    const ours = await embedder.embed(first);
    const enc = encodeGroup(first);
    const b = padBatch(enc);
    const raw = await session.run({
      input_ids: new ort.Tensor('int64', b.ids, [b.rows, b.cols]),
      attention_mask: new ort.Tensor('int64', b.mask, [b.rows, b.cols]),
    });
    const e = raw.embeddings.data;
    const diff = Math.max(...ours.flatMap((v, r) => Array.from(v, (x, j) => Math.abs(x - e[r * embedder.dim + j]))));
    if (!(diff < 1e-5)) throw new Error(`embed bench: embedder and raw session disagree (max |diff| ${diff})`);
  }

  let sink = 0;
  return {
    title: 'embed stage: static model, batch 64, 512 tokens, 1 thread — chunks/s',
    note:
      `${total} chunks of ≤ ${CHUNK_CHARS} chars in ${groups.length} embed() calls → ${padded.length} batches; ` +
      `${tokens} tokens, ${cells} padded cells (${((100 * tokens) / cells).toFixed(1)} % real)`,
    runs: 5,
    warmup: 1,
    cases: [
      {
        name: 'raw ort session.run, pre-padded batches',
        unit: 'chunks',
        baseline: true,
        run: async () => {
          for (const feeds of tensors) sink += (await session.run(feeds)).embeddings.dims[0];
          return total;
        },
      },
      {
        name: 'OnnxEmbedder.embed (ours)',
        unit: 'chunks',
        goal: 0.85,
        run: async () => {
          // the embed step's pattern: hand over group i + 1, then await group i
          let previous;
          for (const texts of groups) {
            const current = embedder.embed(texts);
            if (previous) sink += (await previous).length;
            previous = current;
          }
          sink += (await previous).length;
          return total;
        },
      },
      {
        name: '  OnnxEmbedder.embed, one call at a time',
        unit: 'chunks',
        run: async () => {
          for (const texts of groups) sink += (await embedder.embed(texts)).length;
          return total;
        },
      },
      {
        name: '  part: tokenize only',
        unit: 'chunks',
        run: () => {
          for (const texts of groups) sink += encodeGroup(texts).length;
          return total;
        },
      },
      {
        name: '  part: tokenize + bucket + pad',
        unit: 'chunks',
        run: () => {
          for (const texts of groups) {
            const encoded = encodeGroup(texts);
            for (const b of lengthBuckets(encoded, BATCH)) sink += padBatch(b.map((i) => encoded[i])).rows;
          }
          return total;
        },
      },
      {
        name: '  part: worker session.run, pre-padded',
        unit: 'chunks',
        run: async () => {
          for (const b of padded) {
            const dims = [b.rows, b.cols];
            const out = await worker.run(
              { input_ids: { type: 'int64', data: b.ids, dims }, attention_mask: { type: 'int64', data: b.mask, dims } },
              ['embeddings'],
            );
            sink += out.embeddings.dims[0];
          }
          return total;
        },
      },
    ],
  };
}
