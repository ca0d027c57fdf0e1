/**
 * The reference a test holds the embedder to: what sentence-transformers' encode() computes for
 * one text, written out plainly from its source (Transformer → Pooling → truncate_dim →
 * normalize), over the same ONNX graph run unbatched. Deliberately independent of pooling.ts.
 */
import tokenizers from 'tokenizers';
import { type Feed, OrtWorkerSession } from '../ort-worker.js';

export interface ReferenceOptions {
  modelFile: string;
  tokenizerFile: string;
  /** Name of the token-level output. */
  output: string;
  pooling: 'cls' | 'mean' | 'max' | 'lasttoken' | 'mean_sqrt_len';
  prompt?: string;
  /** Pooling.include_prompt (default true). */
  includePrompt?: boolean;
  /** Feed token_type_ids (BERT). */
  typeIds?: boolean;
  /** Feed a scalar task_id (jina-v3). */
  taskId?: number;
  truncateDim?: number;
  maxTokens?: number;
}

const i64 = (xs: number[]): Feed => ({ type: 'int64', data: BigInt64Array.from(xs, BigInt), dims: [1, xs.length] });

export async function referenceVector(o: ReferenceOptions, text: string): Promise<Float32Array> {
  const tok = tokenizers.Tokenizer.fromFile(o.tokenizerFile);
  tok.disablePadding(); // one text, unpadded: every position is a real token
  tok.setTruncation(o.maxTokens ?? 512);
  const prompt = o.prompt ?? '';
  const [enc] = await tok.encodeBatch([prompt + text]);
  const ids = enc.getIds();
  const mask = ids.map(() => 1);
  // Pooling: attention_mask[:, :prompt_length] = 0 with prompt_length = len(tokenize(prompt)) - 1
  if (prompt && o.includePrompt === false) {
    const [p] = await tok.encodeBatch([prompt]);
    for (let i = 0; i < p.getIds().length - 1 && i < mask.length; i++) mask[i] = 0;
  }
  const session = await OrtWorkerSession.open(o.modelFile, { threads: 1 });
  try {
    const feeds: Record<string, Feed> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)) };
    if (o.typeIds) feeds.token_type_ids = i64(enc.getTypeIds());
    if (o.taskId !== undefined) feeds.task_id = { type: 'int64', data: BigInt64Array.of(BigInt(o.taskId)), dims: [] };
    const t = (await session.run(feeds, [o.output]))[o.output];
    const dim = t.dims[2];
    const token = (i: number) => Array.from((t.data as Float32Array).subarray(i * dim, (i + 1) * dim));
    let v: number[];
    const kept = mask.flatMap((m, i) => (m ? [i] : []));
    if (o.pooling === 'cls') v = token(0);
    else if (o.pooling === 'lasttoken') v = token(kept.length ? kept[kept.length - 1] : 0);
    else if (o.pooling === 'max') v = Array.from({ length: dim }, (_, d) => Math.max(-1e9, ...kept.map((i) => token(i)[d])));
    else {
      const sum = Array.from({ length: dim }, (_, d) => kept.reduce((s, i) => s + token(i)[d], 0));
      const n = Math.max(kept.length, 1e-9);
      v = sum.map((x) => x / (o.pooling === 'mean' ? n : Math.sqrt(n)));
    }
    if (o.truncateDim) v = v.slice(0, o.truncateDim);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return Float32Array.from(v, (x) => x / norm);
  } finally {
    await session.release();
  }
}
