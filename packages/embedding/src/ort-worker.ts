/**
 * An onnxruntime-node session living in a worker thread. Two reasons:
 *  - onnxruntime-node's `session.run` is synchronous on the calling thread: a batch of 64
 *    chunks would stall the event loop (BullMQ lock renewal, /metrics, timers) for its duration;
 *  - its tensor checks use `instanceof Float32Array`, which fails whenever the caller's realm
 *    differs from the addon's (jest's vm contexts): a worker is a realm of its own.
 * The worker source is plain CommonJS in a string so it runs the same from src (tests) and dist.
 * The worker can also hold the static model's tokenizer (`loadTokenizer`, an import of
 * static-tokenizer-engine.js): embed() calls have it tokenize part of their texts while this
 * thread does the rest (input-encoders.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { movableBuffers, ThreadCalls } from '@nextlong/core';
import type { EncodedTexts } from './static-tokenizer.js';

export type FeedType = 'float32' | 'int64' | 'int32';
export interface Feed {
  type: FeedType;
  data: Float32Array | BigInt64Array | Int32Array;
  dims: number[];
}
export interface Output {
  type: string;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array;
}
export interface ValueMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}
export interface SessionOptions {
  /** intra-op threads; 0 = onnxruntime's default. */
  threads: number;
  /** onnxruntime execution providers in order of preference (default: cpu), e.g. ['cuda', 'cpu']. */
  providers?: string[];
}
export interface RunOptions {
  /**
   * Hand the feeds' buffers to the worker instead of copying them (default false): faster,
   * but the caller's feed arrays are detached (length 0) once `run` is called.
   */
  transfer?: boolean;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session = null;
let tokenizer = null;
const meta = (names, metas) => names.map((name, i) => {
  const m = (metas && metas[i]) || {};
  return { name, isTensor: m.isTensor !== false, type: m.type, shape: m.shape ? Array.from(m.shape) : undefined };
});
async function handle(msg) {
  if (msg.op === 'open') {
    // logSeverityLevel 4 (fatal only): a failing run already comes back as an error with the
    // message; onnxruntime's own copy on stderr would only break our one-line error contract
    const o = { interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 4 };
    if (msg.threads > 0) o.intraOpNumThreads = msg.threads;
    if (msg.providers) o.executionProviders = msg.providers;
    session = await ort.InferenceSession.create(msg.model, o);
    return { value: { inputs: meta(session.inputNames, session.inputMetadata), outputs: meta(session.outputNames, session.outputMetadata) } };
  }
  if (msg.op === 'run') {
    const feeds = {};
    for (const [name, f] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    const result = await session.run(feeds, msg.outputs);
    const value = {};
    const transfer = [];
    for (const name of msg.outputs) {
      const t = result[name];
      const data = t.data.slice(); // own buffer: the addon's may be external memory
      transfer.push(data.buffer);
      value[name] = { type: t.type, dims: Array.from(t.dims), data };
    }
    return { value, transfer };
  }
  if (msg.op === 'tokenizer') {
    tokenizer = null;
    const words = msg.wordsFile ? JSON.parse(require('node:fs').readFileSync(msg.wordsFile, 'utf8')) : msg.words;
    const { staticTokenizerEngine } = await import(msg.engineUrl);
    tokenizer = staticTokenizerEngine(words);
    return { value: null };
  }
  if (msg.op === 'tokenize') {
    const start = performance.now();
    const { ids, offsets } = tokenizer.encodeMany(msg.texts, msg.maxTokens);
    return { value: { ids, offsets, ms: performance.now() - start }, transfer: [ids.buffer, offsets.buffer] };
  }
  if (msg.op === 'close') {
    if (session) await session.release();
    session = null;
    return { value: null };
  }
  throw new Error('unknown op ' + msg.op);
}
parentPort.on('message', (msg) => {
  handle(msg).then(
    (r) => parentPort.postMessage({ id: msg.id, ok: true, value: r.value }, r.transfer || []),
    (e) => parentPort.postMessage({ id: msg.id, ok: false, error: { name: e && e.name, message: String(e && e.message || e) } }),
  );
});
`;

/**
 * The tokenizer engine module for the worker: the compiled file beside this one (dist), or, when
 * this module runs from its TypeScript source (tests), the package's build of it — a worker
 * thread loads JavaScript only. Missing (never built): loading fails and the embedder
 * tokenizes on its own thread (StaticInputEncoder.useWorker).
 */
function engineUrl(): string {
  const beside = new URL('./static-tokenizer-engine.js', import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside.href : new URL('../dist/static-tokenizer-engine.js', import.meta.url).href;
}

export class OrtWorkerSession {
  private readonly calls: ThreadCalls;
  inputs: ValueMeta[] = [];
  outputs: ValueMeta[] = [];

  private constructor(worker: Worker) {
    this.calls = new ThreadCalls(worker, { exitMessage: 'onnxruntime worker exited' });
  }

  /** Loads `model` (file path or ONNX bytes) in a new worker thread. */
  static async open(model: string | Uint8Array, options: SessionOptions): Promise<OrtWorkerSession> {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const session = new OrtWorkerSession(new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } }));
    try {
      const info = (await session.calls.call({ op: 'open', model, threads: options.threads, providers: options.providers })) as { inputs: ValueMeta[]; outputs: ValueMeta[] };
      session.inputs = info.inputs;
      session.outputs = info.outputs;
      return session;
    } catch (err) {
      await session.calls.worker.terminate();
      throw err;
    }
  }

  /**
   * Runs the model; feeds' buffers are copied to the worker (or moved, with `transfer`), outputs
   * come back as own arrays. Calls queue in the worker and run in order, so a caller may post
   * the next batch before the previous one is done.
   */
  async run(feeds: Record<string, Feed>, outputs: string[], options: RunOptions = {}): Promise<Record<string, Output>> {
    const transfer = options.transfer ? movableBuffers(Object.values(feeds).map((f) => f.data)) : undefined;
    return (await this.calls.call({ op: 'run', feeds, outputs }, transfer)) as Record<string, Output>;
  }

  /**
   * Sets up the static model's tokenizer over `words` in the worker: the worker imports
   * static-tokenizer-engine.js like any module (see engineUrl) and builds its own engine.
   */
  async loadTokenizer(words: readonly string[]): Promise<void> {
    await this.calls.call({ op: 'tokenizer', engineUrl: engineUrl(), words });
  }

  /**
   * `loadTokenizer` with the words read by the worker from a vocab.json: the worker parses its own
   * copy (no big argument cloned across), so it can start before this thread has read the file.
   */
  async loadTokenizerFromFile(wordsFile: string): Promise<void> {
    await this.calls.call({ op: 'tokenizer', engineUrl: engineUrl(), wordsFile });
  }

  /** Tokenizes `texts` in the worker (loadTokenizer first); `ms` is the worker's own time. */
  async tokenize(texts: readonly string[], maxTokens: number): Promise<EncodedTexts & { ms: number }> {
    return (await this.calls.call({ op: 'tokenize', texts, maxTokens })) as EncodedTexts & { ms: number };
  }

  /** Releases the session and stops the worker; later calls fail. */
  async release(): Promise<void> {
    if (this.calls.dead) return;
    try {
      await this.calls.call({ op: 'close' });
    } finally {
      this.calls.fail(new Error('onnxruntime session released'));
      await this.calls.worker.terminate();
    }
  }
}
