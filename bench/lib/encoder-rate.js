/**
 * What a transformer embedder costs per CPU core, measured on a random-weight ONNX encoder of
 * jina-embeddings-v3's shape (XLM-RoBERTa-large: hidden 1024, 16 heads, FFN 4096, GELU, post-norm;
 * 24 layers) on 512-token chunks. No pretrained weights are reachable here, and speed does not
 * depend on the weights. The full 24 layers (≈ 300 M parameters, 1.2 GB of f32) are not built:
 * two depths are timed and the per-layer cost is extrapolated to 24 layers,
 *   seconds(24) = seconds(a) + (24 − a) × (seconds(b) − seconds(a)) / (b − a),
 * which also keeps the embeddings and the rest outside the layers counted once.
 * (tiny-bert.ts is single-head with FFN 2×hidden; this graph has the real head split and FFN.)
 */
import { Rng } from '@nextlong/core';
import { attr, encodeModel, floatTensor, int64Tensor } from '@nextlong/embedding';
import ort from 'onnxruntime-node';
import { median } from './harness.js';

export const XLMR_LARGE = { hidden: 1024, heads: 16, ffn: 4096, layers: 24, seq: 512 };

/** ONNX bytes of an encoder with `layers` layers of the given shape and random weights. */
export function encoderModel({ hidden: h, heads, ffn, layers, vocab = 1000, maxPositions = 514 }) {
  const rng = new Rng(1);
  const nodes = [];
  const inits = [
    int64Tensor('heads_shape', [4], [0, 0, heads, h / heads]),
    int64Tensor('merge_shape', [3], [0, 0, h]),
    int64Tensor('axis_12', [2], [1, 2]),
  ];
  const w = (name, dims, scale) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rng.next() * 2 - 1) * scale;
    inits.push(floatTensor(name, dims, data));
    return name;
  };
  const c = (name, dims, v) => (inits.push(floatTensor(name, dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(v))), name);
  const op = (type, inputs, out, attrs) => (nodes.push({ op: type, inputs, outputs: [out], name: out, ...(attrs ? { attrs } : {}) }), out);
  const norm = (x, n) =>
    op('LayerNormalization', [x, c(`${n}.g`, [h], 1), c(`${n}.b`, [h], 0)], n, { axis: attr.int(-1), epsilon: attr.float(1e-5) });
  const dense = (x, n, din, dout) =>
    op('Add', [op('MatMul', [x, w(`${n}.w`, [din, dout], 1 / Math.sqrt(din))], `${n}.mm`), w(`${n}.b`, [dout], 0.02)], n);
  const split = (x, n, perm) => op('Transpose', [op('Reshape', [x, 'heads_shape'], `${n}.r`)], n, { perm: attr.ints(perm) });
  c('half', [], 0.5);
  c('one', [], 1);
  c('inv_sqrt2', [], Math.SQRT1_2);
  c('neg_big', [], -1e4);
  c('scale', [], 1 / Math.sqrt(h / heads));

  let x = op('Gather', [w('word', [vocab, h], 0.5), 'input_ids'], 'emb.word');
  const pos = op('Gather', [w('pos', [maxPositions, h], 0.5), 'position_ids'], 'emb.pos');
  x = norm(op('Add', [x, pos], 'emb.sum'), 'emb.norm');
  const mask = op(
    'Unsqueeze',
    [
      op('Mul', [op('Sub', ['one', op('Cast', ['attention_mask'], 'mask.f', { to: attr.int(1) })], 'mask.inv'), 'neg_big'], 'mask.bias'),
      'axis_12',
    ],
    'mask.b4',
  );
  for (let l = 0; l < layers; l++) {
    const p = `l${l}`;
    const q = split(dense(x, `${p}.q`, h, h), `${p}.qh`, [0, 2, 1, 3]);
    const k = split(dense(x, `${p}.k`, h, h), `${p}.kh`, [0, 2, 3, 1]);
    const v = split(dense(x, `${p}.v`, h, h), `${p}.vh`, [0, 2, 1, 3]);
    const scores = op('Add', [op('Mul', [op('MatMul', [q, k], `${p}.qk`), 'scale'], `${p}.qks`), mask], `${p}.scores`);
    const ctx = op('MatMul', [op('Softmax', [scores], `${p}.probs`, { axis: attr.int(-1) }), v], `${p}.ctx`);
    const merged = op('Reshape', [op('Transpose', [ctx], `${p}.ctxt`, { perm: attr.ints([0, 2, 1, 3]) }), 'merge_shape'], `${p}.merged`);
    const n1 = norm(op('Add', [x, dense(merged, `${p}.o`, h, h)], `${p}.res1`), `${p}.n1`);
    const f1 = dense(n1, `${p}.f1`, h, ffn);
    // GELU (erf form, as XLM-R): 0.5 · x · (1 + erf(x / √2))
    const gelu = op(
      'Mul',
      [op('Mul', [f1, 'half'], `${p}.gh`), op('Add', [op('Erf', [op('Mul', [f1, 'inv_sqrt2'], `${p}.gs`)], `${p}.erf`), 'one'], `${p}.g1`)],
      `${p}.gelu`,
    );
    x = norm(op('Add', [n1, dense(gelu, `${p}.f2`, ffn, h)], `${p}.res2`), `${p}.n2`);
  }
  op('Identity', [x], 'last_hidden_state');
  const io = (name, type, shape) => ({ name, type, shape });
  return encodeModel({
    producerName: 'nextlong-bench-encoder',
    graph: {
      name: 'encoder',
      nodes,
      initializers: inits,
      inputs: [
        io('input_ids', 'int64', ['batch', 'seq']),
        io('attention_mask', 'int64', ['batch', 'seq']),
        io('position_ids', 'int64', ['batch', 'seq']),
      ],
      outputs: [io('last_hidden_state', 'float32', ['batch', 'seq', h])],
    },
  });
}

/**
 * Median seconds of one `session.run` on `batch` full-length chunks (1 intra-op thread): wall and
 * CPU (the process's, so other processes sharing the cores do not count).
 */
async function timeDepth(shape, layers, batch, runs) {
  const session = await ort.InferenceSession.create(encoderModel({ ...shape, layers }), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const n = batch * shape.seq;
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 1000));
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [batch, shape.seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [batch, shape.seq]),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: n }, (_, i) => BigInt(2 + (i % shape.seq))),
      [batch, shape.seq],
    ),
  };
  await session.run(feeds); // warm-up: allocations, kernel selection
  const wall = [];
  const cpu = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await session.run(feeds);
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  await session.release();
  return { wall: median(wall), cpu: median(cpu) };
}

/**
 * Seconds per chunk of the full-depth encoder on one core, extrapolated from depths `a` < `b`
 * (`cpu`: CPU seconds, the per-core cost; `wall`: as measured, stretched by other processes).
 */
export async function encoderRate({ shape = XLMR_LARGE, depths = [1, 3], batch = 2, runs = 3 } = {}) {
  const [a, b] = depths;
  const ta = await timeDepth(shape, a, batch, runs);
  const tb = await timeDepth(shape, b, batch, runs);
  const full = (k) => (ta[k] + (shape.layers - a) * ((tb[k] - ta[k]) / (b - a))) / batch;
  const perLayer = (k) => (tb[k] - ta[k]) / (b - a) / batch;
  return {
    shape,
    depths,
    batch,
    measured: { [a]: ta, [b]: tb },
    perLayerSeconds: { cpu: perLayer('cpu'), wall: perLayer('wall') },
    chunkSeconds: { cpu: full('cpu'), wall: full('wall') },
  };
}
