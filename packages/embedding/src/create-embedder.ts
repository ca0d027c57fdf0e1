/** Factory used by the pipeline: `model: 'static'` (built into the cache on first use) or a folder. */
import { ConfigError } from '@nextlong/core';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import { ensureStaticModel, type StaticModelOptions } from './static-model.js';

export interface CreateEmbedderOptions extends OnnxEmbedderOptions {
  /** `static` or a model folder (model.onnx + tokenizer.json). */
  model: string;
  /** Static model folder (default: `$NEXTLONG_CACHE/models/static-glove100-v1` or `~/.cache/nextlong/...`). */
  cacheDir?: string;
  /** Build options of the static model (vocabulary cap, SIF constant). */
  staticModel?: StaticModelOptions;
}

export async function createEmbedder(options: CreateEmbedderOptions): Promise<OnnxEmbedder> {
  const { model, cacheDir, staticModel, ...rest } = options;
  if (!model) throw new ConfigError('model: expected "static" or a model folder');
  const dir = model === 'static' ? await ensureStaticModel(cacheDir, staticModel) : model;
  return OnnxEmbedder.load(dir, rest);
}
