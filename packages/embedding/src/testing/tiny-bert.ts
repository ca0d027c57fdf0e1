/**
 * Tiny random-weight encoder ONNX models, for tests of the transformer path (no pretrained
 * weights are reachable offline), with the I/O signatures of the common exports:
 *  - BERT (default): input_ids, attention_mask, token_type_ids → last_hidden_state;
 *  - XLM-R style (`tokenTypes: false`): no token_type_ids;
 *  - jina-embeddings-v3 (`tasks: n`): a scalar int64 task_id choosing an adapter (here a vector
 *    added to the embeddings), output named as its export names it (`outputName`);
 *  - a sentence-transformers export (`sentenceEmbedding`): token_embeddings plus a pooled
 *    sentence_embedding (token 0, so a test can tell it from our own pooling);
 *  - an fp16 export's float16 output (`float16`).
 * Word + type + position embeddings and self-attention layers whose keys are masked by
 * attention_mask, so padding changes nothing for the real tokens, exactly as in real BERT.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@nextlong/core';
import { writeFileAtomic } from '../atomic-file.js';
import { attr, encodeModel, floatTensor, int64Tensor, type NodeDef, type TensorInit, type ValueInfo } from '../onnx-proto.js';

export interface TinyBertOptions {
  /** Rows of the word embedding table (the tokenizer's vocabulary size). */
  vocabSize: number;
  hidden?: number; // default 32
  layers?: number; // default 2
  maxPositions?: number; // default 512
  typeVocabSize?: number; // default 2
  seed?: number; // default 0
  /** token_type_ids input (BERT, default true); false: XLM-R style. */
  tokenTypes?: boolean;
  /** jina-v3 style: a scalar task_id input choosing one of this many adapters. */
  tasks?: number;
  /** Name of the token-level output (default last_hidden_state; token_embeddings with sentenceEmbedding). */
  outputName?: string;
  /** Also output a pooled sentence_embedding [batch, hidden] (the first token's vector). */
  sentenceEmbedding?: boolean;
  /** Outputs as float16. */
  float16?: boolean;
}

class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly inits: TensorInit[] = [];
  constructor(private readonly rng: Rng) {}

  /** Uniform(-scale, scale) weights, drawn in a fixed order from the seeded generator. */
  weight(name: string, dims: number[], scale: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.inits.push(
      floatTensor(
        name,
        dims,
        Float32Array.from({ length: n }, () => (this.rng.next() * 2 - 1) * scale),
      ),
    );
    return name;
  }

  constant(name: string, dims: number[], values: number[]): string {
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  op(op: string, inputs: string[], output: string, attrs?: NodeDef['attrs']): string {
    this.nodes.push({ op, inputs, outputs: [output], name: output, ...(attrs ? { attrs } : {}) });
    return output;
  }

  layerNorm(x: string, name: string, hidden: number): string {
    const g = this.constant(`${name}.gamma`, [hidden], new Array(hidden).fill(1));
    const b = this.constant(`${name}.beta`, [hidden], new Array(hidden).fill(0));
    return this.op('LayerNormalization', [x, g, b], name, { axis: attr.int(-1), epsilon: attr.float(1e-5) });
  }
}

/** Serialized ONNX bytes of the tiny model; equal options give equal bytes. */
export function tinyBertModel(options: TinyBertOptions): Uint8Array {
  const h = options.hidden ?? 32;
  const layers = options.layers ?? 2;
  const g = new GraphBuilder(new Rng(options.seed ?? 0));
  g.inits.push(int64Tensor('i64_zero', [], [0]), int64Tensor('i64_one', [], [1]), int64Tensor('axis_1', [1], [1]));
  g.constant('one', [], [1]);
  g.constant('neg_big', [], [-1e4]);
  g.constant('scale', [], [1 / Math.sqrt(h)]);

  // embeddings: word + token type + absolute position (0..seq-1) (+ the task's adapter vector)
  const tokenTypes = options.tokenTypes !== false;
  const we = g.op('Gather', [g.weight('word_embeddings', [options.vocabSize, h], 1), 'input_ids'], 'word_vectors');
  const te = tokenTypes
    ? g.op('Gather', [g.weight('type_embeddings', [options.typeVocabSize ?? 2, h], 0.5), 'token_type_ids'], 'type_vectors')
    : undefined;
  const seqShape = g.op('Shape', ['input_ids'], 'seq_shape', { start: attr.int(1), end: attr.int(2) });
  const seqLen = g.op('Squeeze', [seqShape], 'seq_len');
  const positions = g.op('Range', ['i64_zero', seqLen, 'i64_one'], 'positions');
  const pe = g.op('Gather', [g.weight('position_embeddings', [options.maxPositions ?? 512, h], 0.5), positions], 'position_vectors');
  let sum = g.op('Add', [te ? g.op('Add', [we, te], 'word_type') : we, pe], 'embedded');
  if (options.tasks) sum = g.op('Add', [sum, g.op('Gather', [g.weight('task_vectors', [options.tasks, h], 1), 'task_id'], 'task_vector')], 'embedded_task');
  let x = g.layerNorm(sum, 'embed_norm', h);

  // additive key mask [batch, 1, seq]: 0 for tokens, -1e4 for padding (softmax weight exactly 0)
  const maskF = g.op('Cast', ['attention_mask'], 'mask_f', { to: attr.int(1) });
  const bias = g.op('Mul', [g.op('Sub', ['one', maskF], 'mask_inv'), 'neg_big'], 'mask_bias');
  const bias3 = g.op('Unsqueeze', [bias, 'axis_1'], 'mask_bias_3d');

  for (let l = 0; l < layers; l++) x = encoderLayer(g, x, bias3, `layer${l}`, h);
  const type = options.float16 ? ('float16' as const) : ('float32' as const);
  const out = (v: string, name: string) => (options.float16 ? g.op('Cast', [v], name, { to: attr.int(10) }) : g.op('Identity', [v], name));
  const tokenName = options.outputName ?? (options.sentenceEmbedding ? 'token_embeddings' : 'last_hidden_state');
  out(x, tokenName);
  const outputs: ValueInfo[] = [{ name: tokenName, type, shape: ['batch', 'sequence', h] }];
  if (options.sentenceEmbedding) {
    out(g.op('Gather', [x, 'i64_zero'], 'first_token', { axis: attr.int(1) }), 'sentence_embedding');
    outputs.push({ name: 'sentence_embedding', type, shape: ['batch', h] });
  }
  const ids = ['input_ids', 'attention_mask', ...(tokenTypes ? ['token_type_ids'] : [])];
  const inputs: ValueInfo[] = ids.map((name) => ({ name, type: 'int64' as const, shape: ['batch', 'sequence'] }));
  if (options.tasks) inputs.push({ name: 'task_id', type: 'int64', shape: [] });

  return encodeModel({
    producerName: 'nextlong-tiny-bert',
    graph: { name: 'tiny_bert', nodes: g.nodes, initializers: g.inits, inputs, outputs },
  });
}

/** Single-head self-attention + feed-forward block, post-norm as in BERT. */
function encoderLayer(g: GraphBuilder, x: string, bias3: string, p: string, h: number): string {
  const s = 1 / Math.sqrt(h);
  const q = g.op('MatMul', [x, g.weight(`${p}.wq`, [h, h], s)], `${p}.q`);
  const k = g.op('MatMul', [x, g.weight(`${p}.wk`, [h, h], s)], `${p}.k`);
  const v = g.op('MatMul', [x, g.weight(`${p}.wv`, [h, h], s)], `${p}.v`);
  const kt = g.op('Transpose', [k], `${p}.kt`, { perm: attr.ints([0, 2, 1]) });
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kt], `${p}.qk`), 'scale'], `${p}.qk_scaled`), bias3], `${p}.scores`);
  const probs = g.op('Softmax', [scores], `${p}.probs`, { axis: attr.int(-1) });
  const ctx = g.op('MatMul', [g.op('MatMul', [probs, v], `${p}.ctx`), g.weight(`${p}.wo`, [h, h], s)], `${p}.attn_out`);
  const n1 = g.layerNorm(g.op('Add', [x, ctx], `${p}.res1`), `${p}.norm1`, h);
  const f1 = g.op(
    'Add',
    [g.op('MatMul', [n1, g.weight(`${p}.w1`, [h, 2 * h], s)], `${p}.ff1`), g.weight(`${p}.b1`, [2 * h], 0.1)],
    `${p}.ff1b`,
  );
  const f2 = g.op('MatMul', [g.op('Tanh', [f1], `${p}.act`), g.weight(`${p}.w2`, [2 * h, h], s)], `${p}.ff2`);
  const ff = g.op('Add', [f2, g.weight(`${p}.b2`, [h], 0.1)], `${p}.ff2b`);
  return g.layerNorm(g.op('Add', [n1, ff], `${p}.res2`), `${p}.norm2`, h);
}

/**
 * A transformer model folder: tiny model.onnx (or `modelPath` inside the folder, e.g.
 * onnx/model_fp16.onnx) + a copy of `tokenizerJson`. Returns `dir`.
 */
export async function writeTinyBertFolder(dir: string, tokenizerJson: string, options: TinyBertOptions, modelPath = 'model.onnx'): Promise<string> {
  await mkdir(join(dir, modelPath, '..'), { recursive: true });
  await copyFile(tokenizerJson, join(dir, 'tokenizer.json'));
  await writeFileAtomic(join(dir, modelPath), tinyBertModel(options));
  return dir;
}
