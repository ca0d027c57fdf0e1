/**
 * The Embedder port on onnxruntime-node, for both the static word-vector model and transformer
 * folders (model.onnx + tokenizer.json). The session runs in a worker thread (ort-worker.ts);
 * texts still go through in small batches so an abort takes effect quickly and memory stays flat.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError, type Embedder } from '@nextlong/core';
import { l2Normalize, lengthBuckets, maskedMeanPool, padBatch, splitRows, type PaddedBatch } from './batching.js';
import {
  declaredMaxTokens,
  type EncodedText,
  HfInputEncoder,
  type InputEncoder,
  loadWorkerTokenizer,
  StaticInputEncoder,
} from './input-encoders.js';
import { type Feed, OrtWorkerSession } from './ort-worker.js';
import { Slots } from './slots.js';
import { readStaticManifest, STATIC_MANIFEST } from './static-model.js';
import { StaticTokenizer } from './static-tokenizer.js';

export interface OnnxEmbedderOptions {
  /** Texts per session.run (default 32). Small batches keep the event loop responsive. */
  batchSize?: number;
  /** Tokens per text, special tokens included (default: what the folder declares, else 512). */
  maxTokens?: number;
  /** onnxruntime intra-op threads (default 1; 0 = onnxruntime's own default, all cores). */
  threads?: number;
  /**
   * Static model: when a call finds the onnxruntime worker idle (no other call in progress), let
   * it tokenize part of the call's texts while this thread tokenizes the rest (default true).
   * Off: all tokenization happens on this thread.
   */
  tokenizeInWorker?: boolean;
}

type Session = OrtWorkerSession;
type IdType = 'int64' | 'int32';
/** Inputs we know how to fill; anything else in a model is a configuration error. */
const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids', 'position_ids']);

interface ModelIo {
  inputs: { name: string; type: IdType }[];
  output: string;
  /** The output is already L2-normalized (our static model's graph divides by the norm). */
  normalized: boolean;
}

/**
 * Batches queued in the worker at once, over all calls: enough that it never waits on this
 * thread (a tokenization slice, input-encoders.ts) between batches, few enough that padded
 * batches never pile up in memory.
 */
const QUEUED_BATCHES = 4;

export class OnnxEmbedder implements Embedder {
  private closed = false;
  /** embed() calls in progress. */
  private calls = 0;
  /** The latest call's tokenization (settled never rejects): the next call tokenizes after it. */
  private encoding: Promise<unknown> = Promise.resolve();
  private readonly slots = new Slots(QUEUED_BATCHES);

  private constructor(
    readonly name: string,
    readonly dim: number,
    readonly kind: 'static' | 'transformer',
    private readonly session: Session,
    private readonly encoder: InputEncoder,
    private readonly io: ModelIo,
    private readonly batchSize: number,
  ) {}

  /** Whether the onnxruntime worker tokenizes part of a call when idle (static model; see tokenizeInWorker). */
  get tokenizesInWorker(): boolean {
    return this.encoder instanceof StaticInputEncoder && this.encoder.usesWorker;
  }

  /** Longest input in tokens; longer texts are truncated. */
  get maxTokens(): number {
    return this.encoder.maxTokens;
  }

  /** Opens a model folder: static (model.onnx + vocab.json) or transformer (model.onnx + tokenizer.json). */
  static async load(dir: string, options: OnnxEmbedderOptions = {}): Promise<OnnxEmbedder> {
    checkOptions(options);
    const folder = resolve(dir);
    const { modelFile, isStatic } = inspectFolder(folder);
    const maxTokens = options.maxTokens ?? (isStatic ? 512 : declaredMaxTokens(folder));
    const vocabFile = join(folder, 'vocab.json');
    // start-up in parallel: the worker loads the model, then its own copy of the vocabulary,
    // while this thread reads the tokenizer
    const opening = openSession(modelFile, options.threads ?? 1);
    const workerTokenizer =
      isStatic && options.tokenizeInWorker !== false ? opening.then((s) => loadWorkerTokenizer(s, vocabFile)) : undefined;
    workerTokenizer?.catch(() => {}); // a failure only means no tokenizing in the worker (useWorker)
    let encoder: InputEncoder;
    try {
      encoder = isStatic
        ? new StaticInputEncoder(await StaticTokenizer.fromFile(vocabFile), maxTokens)
        : HfInputEncoder.fromFile(join(folder, 'tokenizer.json'), maxTokens);
    } catch (err) {
      await opening.then(
        (s) => s.release(),
        () => {},
      );
      throw err;
    }
    const session = await opening;
    try {
      // the worker is idle while a lone call is tokenized: it takes part of the texts
      if (encoder instanceof StaticInputEncoder && workerTokenizer) await encoder.useWorker(session, workerTokenizer);
      const manifest = isStatic ? await readStaticManifest(folder) : null;
      // a folder built by ensureStaticModel: its graph ends in x / max(‖x‖, 1e-12) (staticModelDef)
      const io = modelIo(session, modelFile, isStatic, manifest !== null);
      const name = manifest?.name ?? basename(folder);
      // output width: declared by the model, else learnt from one tiny run
      const dim = staticDim(session, io.output) ?? (await runBatch(session, io, padBatch([{ ids: [0] }]), name))[0].length;
      return new OnnxEmbedder(name, dim, isStatic ? 'static' : 'transformer', session, encoder, io, options.batchSize ?? 32);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /**
   * L2-normalized vectors in input order; a text with no usable tokens gives the zero vector.
   * Calls may overlap (the embed step issues the next group before the previous one is done):
   * they tokenize one after another on this thread, in call order, while the worker runs the
   * batches of earlier calls. Each call's batches are exactly those of a call made alone, so
   * its vectors are too.
   */
  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (this.closed) throw new Error(`embedder ${this.name} is closed`);
    signal?.throwIfAborted();
    // the worker is idle only when no other call is in progress: then it may tokenize too
    const workerIdle = this.calls === 0;
    this.calls++;
    try {
      const encoded = await this.encodeInTurn(texts, workerIdle, signal);
      return await this.runBatches(encoded, signal);
    } finally {
      this.calls--;
    }
  }

  /** Tokenizes once the calls before this one have. */
  private encodeInTurn(texts: string[], workerIdle: boolean, signal?: AbortSignal): Promise<EncodedText[]> {
    const turn = this.encoding.then(() => {
      signal?.throwIfAborted();
      return this.encoder.encode(texts, signal, workerIdle);
    });
    this.encoding = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Length-bucketed batches through the worker. A batch is padded and posted once it holds one
   * of the embedder's slots, so a few batches wait in the worker's queue whatever this thread is
   * doing; a slot comes back when its batch's vectors are in.
   */
  private async runBatches(encoded: EncodedText[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(encoded.length);
    const typeIds = this.io.inputs.some((i) => i.name === 'token_type_ids');
    const running: Promise<void>[] = [];
    let failed = false;
    try {
      for (const rows of lengthBuckets(encoded, this.batchSize)) {
        await this.slots.acquire();
        let posted = false;
        try {
          if (failed) break;
          signal?.throwIfAborted();
          const batch = padBatch(
            rows.map((i) => encoded[i]),
            typeIds,
          );
          const done = runBatch(this.session, this.io, batch, this.name, true).then(
            (vectors) => {
              for (let r = 0; r < rows.length; r++) out[rows[r]] = this.io.normalized ? vectors[r] : l2Normalize(vectors[r]);
            },
            (err: unknown) => {
              failed = true;
              throw err;
            },
          );
          running.push(done.finally(() => this.slots.release()));
          posted = true;
        } finally {
          if (!posted) this.slots.release();
        }
      }
      await Promise.all(running);
    } finally {
      // an abort or error while batches are queued: let them finish unobserved
      for (const r of running) r.catch(() => {});
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

/**
 * One session.run; pools [batch, seq, dim] outputs over unmasked positions. With `transfer`,
 * the batch's id arrays move to the worker (detached here afterwards; pooling reads only
 * `batch.lengths`).
 */
async function runBatch(session: Session, io: ModelIo, batch: PaddedBatch, name: string, transfer = false): Promise<Float32Array[]> {
  const feeds: Record<string, Feed> = {};
  for (const input of io.inputs) feeds[input.name] = idFeed(input.type, inputData(input.name, batch), batch);
  const t = (await session.run(feeds, [io.output], { transfer }))[io.output];
  if (t.type !== 'float32') throw new Error(`model ${name}: output ${io.output} is ${t.type}, expected float32`);
  const data = t.data as Float32Array;
  if (t.dims.length === 3) return maskedMeanPool(data, batch, t.dims[2]);
  if (t.dims.length === 2) return splitRows(data, batch.rows, t.dims[1]);
  throw new Error(`model ${name}: output ${io.output} has shape [${t.dims.join(', ')}], expected [batch, seq, dim] or [batch, dim]`);
}

function checkOptions(o: OnnxEmbedderOptions): void {
  const check = (field: string, v: number | undefined, min: number): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
      throw new ConfigError(`embedding: ${field} must be an integer >= ${min}, got ${v}`);
    }
  };
  check('batchSize', o.batchSize, 1);
  check('maxTokens', o.maxTokens, 1);
  check('threads', o.threads, 0);
}

/** The model file and kind of a folder, or a ConfigError naming what is missing. */
function inspectFolder(folder: string): { modelFile: string; isStatic: boolean } {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ConfigError(`model: folder ${folder} does not exist (expected model.onnx with tokenizer.json, or a static model)`);
  }
  const modelFile = join(folder, 'model.onnx');
  if (!existsSync(modelFile)) throw new ConfigError(`model: ${modelFile} not found`);
  // a transformer folder may hold a vocab.json too (BPE tokenizers): the static manifest decides
  const hasTokenizer = existsSync(join(folder, 'tokenizer.json'));
  const isStatic = existsSync(join(folder, STATIC_MANIFEST)) || (!hasTokenizer && existsSync(join(folder, 'vocab.json')));
  if (isStatic && !existsSync(join(folder, 'vocab.json'))) throw new ConfigError(`model: ${join(folder, 'vocab.json')} not found`);
  if (!isStatic && !hasTokenizer) {
    throw new ConfigError(`model: ${join(folder, 'tokenizer.json')} not found (a static model folder has vocab.json instead)`);
  }
  return { modelFile, isStatic };
}

async function openSession(modelFile: string, threads: number): Promise<Session> {
  try {
    return await OrtWorkerSession.open(modelFile, { threads });
  } catch (err) {
    throw new ConfigError(`model: cannot load ${modelFile}: ${(err as Error).message}`);
  }
}

/** Which inputs to feed (and their integer type) and which output to read. */
function modelIo(session: Session, modelFile: string, isStatic: boolean, ownStaticModel: boolean): ModelIo {
  const inputs = session.inputs.map((m) => {
    if (!KNOWN_INPUTS.has(m.name))
      throw new ConfigError(`model: ${modelFile} has input ${m.name}; supported: ${[...KNOWN_INPUTS].join(', ')}`);
    const type = m.isTensor ? (m.type ?? 'int64') : 'int64';
    if (type !== 'int64' && type !== 'int32')
      throw new ConfigError(`model: ${modelFile}: input ${m.name} is ${type}, expected int64 or int32`);
    return { name: m.name, type: type as IdType };
  });
  if (!inputs.some((i) => i.name === 'input_ids')) throw new ConfigError(`model: ${modelFile} has no input_ids input`);
  const names = session.outputs.map((o) => o.name);
  const preferred = isStatic ? 'embeddings' : 'last_hidden_state';
  const output = names.includes(preferred) ? preferred : names[0];
  if (!output) throw new ConfigError(`model: ${modelFile} has no outputs`);
  return { inputs, output, normalized: ownStaticModel && output === 'embeddings' };
}

/** Declared width of the output's last axis, when it is a number. */
function staticDim(session: Session, output: string): number | undefined {
  const shape = session.outputs.find((x) => x.name === output)?.shape;
  const last = shape?.[shape.length - 1];
  return typeof last === 'number' && last > 0 ? last : undefined;
}

function inputData(name: string, b: PaddedBatch): BigInt64Array {
  if (name === 'input_ids') return b.ids;
  if (name === 'attention_mask') return b.mask;
  if (name === 'token_type_ids') return b.typeIds;
  // position_ids: 0..cols-1 on every row (right padding keeps real tokens at the front)
  const row = BigInt64Array.from({ length: b.cols }, (_, i) => BigInt(i));
  const all = new BigInt64Array(b.rows * b.cols);
  for (let r = 0; r < b.rows; r++) all.set(row, r * b.cols);
  return all;
}

function idFeed(type: IdType, data: BigInt64Array, b: PaddedBatch): Feed {
  const dims = [b.rows, b.cols];
  return type === 'int64' ? { type, data, dims } : { type, data: Int32Array.from(data, Number), dims };
}
