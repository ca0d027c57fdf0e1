/**
 * The Embedder port on onnxruntime-node, for both the static word-vector model and transformer
 * folders (model.onnx + tokenizer.json). The session runs in a worker thread (ort-worker.ts);
 * texts still go through in small batches so an abort takes effect quickly and memory stays flat.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, type Embedder } from '@nextlong/core';
import { l2Normalize, lengthBuckets, padBatch, splitRows, type PaddedBatch } from './batching.js';
import {
  type EncodedText,
  HfInputEncoder,
  type InputEncoder,
  loadWorkerTokenizer,
  StaticInputEncoder,
} from './input-encoders.js';
import { declaredDim, type IdType, type ModelIo, modelIo } from './model-io.js';
import { type ModelFolder, type ModelFolderOptions, readModelFolder } from './model-folder.js';
import { type Feed, OrtWorkerSession } from './ort-worker.js';
import { halfToFloat, poolTokens, truncateDims } from './pooling.js';
import { Slots } from './slots.js';
import { readStaticManifest, STATIC_MANIFEST } from './static-model.js';
import { StaticTokenizer } from './static-tokenizer.js';

export interface OnnxEmbedderOptions extends ModelFolderOptions {
  /** Texts per session.run (default 32). Small batches keep the event loop responsive. */
  batchSize?: number;
  /**
   * Tokens per text, special tokens included. Static model: default 512. Transformer folder: at
   * most what the folder declares (sentence_bert_config.json max_seq_length, …, else 512).
   */
  maxTokens?: number;
  /** onnxruntime intra-op threads (default 1; 0 = onnxruntime's own default, all cores). */
  threads?: number;
  /**
   * Static model: when a call finds the onnxruntime worker idle (no other call in progress), let
   * it tokenize part of the call's texts while this thread tokenizes the rest (default true).
   * Off: all tokenization happens on this thread.
   */
  tokenizeInWorker?: boolean;
  /** Matryoshka: keep the first `dim` values of each vector (then normalize). Default: all. */
  dim?: number;
}

type Session = OrtWorkerSession;

/** How a batch's model output becomes vectors (fixed at load). */
interface Pipe {
  io: ModelIo;
  pooling: ModelFolder['pooling'];
  /** Prompt tokens masked out of the pooling (include_prompt: false). */
  skip: number;
  taskId?: number;
  dim?: number;
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
    private readonly pipe: Pipe,
    private readonly batchSize: number,
    /** What was read from a transformer folder (pooling, prompt, task), for `nextlong embed` and logs. */
    readonly folder?: ModelFolder,
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
    const isStatic = inspectFolder(folder);
    const spec = isStatic ? undefined : readModelFolder(folder, options);
    const modelFile = spec?.modelFile ?? join(folder, 'model.onnx');
    // --embed-max-tokens caps what the folder was trained with (sentence_bert_config.json)
    const maxTokens = spec ? Math.min(options.maxTokens ?? Infinity, spec.maxSeqLength) : (options.maxTokens ?? 512);
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
        : HfInputEncoder.fromFile(spec!.tokenizerFile, maxTokens, spec!.prompt);
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
      const name = manifest?.name ?? basename(folder);
      const io = modelIo(session.inputs, session.outputs, modelFile, {
        isStatic,
        // a folder built by ensureStaticModel: its graph ends in x / max(‖x‖, 1e-12) (staticModelDef)
        ownStaticModel: manifest !== null,
        hasTasks: spec?.taskId !== undefined,
        poolingFlag: options.pooling !== undefined,
        configFile: join(folder, 'config.json'),
      });
      const skip = spec && !spec.includePrompt && encoder instanceof HfInputEncoder ? await encoder.promptTokens() : 0;
      const pipe: Pipe = { io, pooling: spec?.pooling ?? 'mean', skip, taskId: spec?.taskId, dim: options.dim };
      // output width: declared by the model, else learnt from one tiny run; a transformer is
      // always probed with the tokenizer's highest id, so a vocabulary mismatch fails here
      const probe = encoder instanceof HfInputEncoder ? await probeVocabulary(session, pipe, encoder, spec!, name) : undefined;
      const width = declaredDim(session.outputs, io.output) ?? probe ?? (await runBatch(session, pipe, padBatch([{ ids: [0] }]), name))[0].length;
      if (options.dim !== undefined && options.dim > width) {
        throw new ConfigError(`embedding: embedDim ${options.dim} exceeds the width ${width} of ${modelFile} output ${io.output}`);
      }
      const dim = options.dim ?? width;
      return new OnnxEmbedder(name, dim, isStatic ? 'static' : 'transformer', session, encoder, pipe, options.batchSize ?? 32, spec);
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
    const typeIds = this.pipe.io.inputs.some((i) => i.name === 'token_type_ids');
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
          const done = runBatch(this.session, this.pipe, batch, this.name, true).then(
            (vectors) => {
              for (let r = 0; r < rows.length; r++) out[rows[r]] = vectors[r];
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
 * One session.run → unit vectors: pooled as the folder says ([batch, seq, dim] outputs), cut to
 * the Matryoshka width, normalized. With `transfer`, the batch's id arrays move to the worker
 * (detached here afterwards; pooling reads only `batch.lengths`).
 */
async function runBatch(session: Session, pipe: Pipe, batch: PaddedBatch, name: string, transfer = false): Promise<Float32Array[]> {
  const { io } = pipe;
  const feeds: Record<string, Feed> = {};
  for (const input of io.inputs) {
    if (input.name === 'task_id') feeds.task_id = { type: input.type, ...taskData(input.type, pipe.taskId!), dims: input.rank === 1 ? [1] : [] };
    else feeds[input.name] = idFeed(input.type, inputData(input.name, batch), batch);
  }
  const t = (await session.run(feeds, [io.output], { transfer }))[io.output];
  let data: Float32Array;
  if (t.type === 'float32') data = t.data as Float32Array;
  else if (t.type === 'float16') data = halfToFloat(t.data as unknown as Uint16Array);
  else throw new Error(`model ${name}: output ${io.output} is ${t.type}, expected float32 or float16`);
  let vectors: Float32Array[];
  if (t.dims.length === 3 && !io.pooled) vectors = poolTokens(pipe.pooling, data, batch, t.dims[2], pipe.skip);
  else if (t.dims.length === 2) vectors = splitRows(data, batch.rows, t.dims[1]);
  else throw new Error(`model ${name}: output ${io.output} has shape [${t.dims.join(', ')}], expected [batch, seq, dim] or [batch, dim]`);
  // the static model's graph normalizes already: its vectors are kept bit for bit
  if (io.normalized && pipe.dim === undefined) return vectors;
  return vectors.map((v) => l2Normalize(truncateDims(v, pipe.dim)));
}

function taskData(type: IdType, id: number): Pick<Feed, 'data'> {
  return { data: type === 'int64' ? BigInt64Array.of(BigInt(id)) : Int32Array.of(id) };
}

/**
 * Runs the tokenizer's highest id through the model: an embedding table smaller than the
 * tokenizer's vocabulary fails here, named, instead of on some later chunk. Returns the width.
 */
async function probeVocabulary(session: Session, pipe: Pipe, encoder: HfInputEncoder, spec: ModelFolder, name: string): Promise<number> {
  const maxId = encoder.maxId;
  if (spec.vocabSize !== undefined && maxId >= spec.vocabSize) {
    throw new ConfigError(
      `model: ${spec.tokenizerFile} has token ids up to ${maxId}, but vocab_size in ${join(dirname(spec.modelFile), 'config.json')} is ${spec.vocabSize}: tokenizer and model do not match`,
    );
  }
  try {
    return (await runBatch(session, pipe, padBatch([{ ids: [maxId] }]), name))[0].length;
  } catch (err) {
    throw new ConfigError(
      `model: ${spec.modelFile} fails on token id ${maxId} of ${spec.tokenizerFile} (tokenizer and model vocabularies do not match?): ${(err as Error).message.split('\n')[0]}`,
    );
  }
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
  check('dim', o.dim, 1);
}

/** Whether a folder is a static model (vocab.json, our manifest) rather than a transformer one. */
function inspectFolder(folder: string): boolean {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ConfigError(`model: folder ${folder} does not exist (expected model.onnx with tokenizer.json, or a static model)`);
  }
  // a transformer folder may hold a vocab.json too (BPE tokenizers): the static manifest decides
  const hasTokenizer = existsSync(join(folder, 'tokenizer.json'));
  const isStatic = existsSync(join(folder, STATIC_MANIFEST)) || (!hasTokenizer && existsSync(join(folder, 'vocab.json')));
  if (isStatic) {
    for (const f of ['model.onnx', 'vocab.json']) if (!existsSync(join(folder, f))) throw new ConfigError(`model: ${join(folder, f)} not found`);
  }
  if (!isStatic && !hasTokenizer) {
    throw new ConfigError(`model: ${join(folder, 'tokenizer.json')} not found (a static model folder has vocab.json instead)`);
  }
  return isStatic;
}

async function openSession(modelFile: string, threads: number): Promise<Session> {
  try {
    // a machine property (a GPU node of a CPU fleet), so the environment's, not the run's
    const providers = process.env.NEXTLONG_ORT_PROVIDERS?.split(',').filter(Boolean);
    return await OrtWorkerSession.open(modelFile, { threads, ...(providers?.length ? { providers } : {}) });
  } catch (err) {
    throw new ConfigError(`model: cannot load ${modelFile}: ${(err as Error).message}`);
  }
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
