/** Factory used by the pipeline: `model: 'static'` (built into the cache on first use) or a folder. */
import { ConfigError, type RunConfig } from '@nextlong/core';
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

type EmbedKeys = 'model' | 'embedBatch' | 'embedMaxTokens' | 'embedThreads' | 'embedPooling' | 'embedPrompt' | 'embedTask' | 'embedDim' | 'embedVariant';

/**
 * The embedder options of a run: the same in every process that works on it, and in
 * `nextlong embed` (so it embeds a text exactly as the run embeds a chunk).
 */
export function embedderOptionsOf(c: Pick<RunConfig, EmbedKeys>): CreateEmbedderOptions {
  const o: CreateEmbedderOptions = { model: c.model, batchSize: c.embedBatch, maxTokens: c.embedMaxTokens, threads: c.embedThreads };
  if (c.embedPooling !== undefined) o.pooling = c.embedPooling;
  if (c.embedPrompt !== undefined) o.prompt = c.embedPrompt;
  if (c.embedTask !== undefined) o.task = c.embedTask;
  if (c.embedDim !== undefined) o.dim = c.embedDim;
  if (c.embedVariant !== undefined) o.variant = c.embedVariant;
  return o;
}
