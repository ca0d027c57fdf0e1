import { attr, encodeModel, floatTensor, int64Tensor, type ModelDef } from './onnx-proto.js';
import { OrtWorkerSession } from './ort-worker.js';

/** y = Softmax(x + bias, axis=-1) * scale, over a dynamic [batch, n] input; exercises negative ints, floats, int64 inits. */
function smallModel(): ModelDef {
  return {
    producerName: 'test',
    metadata: { b: '2', a: '1' },
    graph: {
      name: 'g',
      initializers: [floatTensor('bias', [3], [0, 1, 2]), floatTensor('scale', [], [2]), int64Tensor('axes', [1], [-1])],
      nodes: [
        { op: 'Add', inputs: ['x', 'bias'], outputs: ['xb'] },
        { op: 'Softmax', inputs: ['xb'], outputs: ['p'], attrs: { axis: attr.int(-1) } },
        { op: 'Mul', inputs: ['p', 'scale'], outputs: ['y'] },
        { op: 'ReduceSum', inputs: ['y', 'axes'], outputs: ['total'], attrs: { keepdims: attr.int(0) } },
      ],
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3] }],
      outputs: [
        { name: 'y', type: 'float32', shape: ['batch', 3] },
        { name: 'total', type: 'float32', shape: ['batch'] },
      ],
    },
  };
}

describe('encodeModel', () => {
  test('starts with ir_version 8 (field 1, varint)', () => {
    const bytes = encodeModel(smallModel());
    expect([...bytes.subarray(0, 2)]).toEqual([0x08, 8]);
  });

  test('equal definitions give identical bytes', () => {
    expect(Buffer.from(encodeModel(smallModel())).equals(Buffer.from(encodeModel(smallModel())))).toBe(true);
  });

  test('onnxruntime loads and runs it with dynamic batch', async () => {
    const session = await OrtWorkerSession.open(encodeModel(smallModel()), { threads: 1 });
    try {
      expect(session.inputs[0]).toMatchObject({ name: 'x', type: 'float32', shape: ['batch', 3] });
      const x = { type: 'float32' as const, data: Float32Array.from([0, 0, 0, 1, 0, -1]), dims: [2, 3] };
      const out = await session.run({ x }, ['y', 'total']);
      const e = [Math.exp(0), Math.exp(1), Math.exp(2)];
      const z = e[0] + e[1] + e[2];
      const y = out.y.data as Float32Array;
      expect(out.y.dims).toEqual([2, 3]);
      e.forEach((v, i) => expect(y[i]).toBeCloseTo((2 * v) / z, 6));
      expect(Array.from(out.total.data as Float32Array)).toEqual([expect.closeTo(2, 5), expect.closeTo(2, 5)]);
    } finally {
      await session.release();
    }
  });

  test('rejects a tensor whose data does not match its dims', () => {
    const bad = smallModel();
    bad.graph.initializers[0] = floatTensor('bias', [4], [0, 1, 2]);
    expect(() => encodeModel(bad)).toThrow(/3 values for dims \[4\]/);
  });
});
