/**
 * An onnxruntime-node session living in a worker thread. Two reasons:
 *  - onnxruntime-node's `session.run` is synchronous on the calling thread: a batch of 64
 *    chunks would stall the event loop (BullMQ lock renewal, /metrics, timers) for its duration;
 *  - its tensor checks use `instanceof Float32Array`, which fails whenever the caller's realm
 *    differs from the addon's (jest's vm contexts): a worker is a realm of its own.
 * The worker source is plain CommonJS in a string so it runs the same from src (tests) and dist.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

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
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session = null;
const meta = (names, metas) => names.map((name, i) => {
  const m = (metas && metas[i]) || {};
  return { name, isTensor: m.isTensor !== false, type: m.type, shape: m.shape ? Array.from(m.shape) : undefined };
});
async function handle(msg) {
  if (msg.op === 'open') {
    const o = { interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
    if (msg.threads > 0) o.intraOpNumThreads = msg.threads;
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

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class OrtWorkerSession {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;
  inputs: ValueMeta[] = [];
  outputs: ValueMeta[] = [];

  private constructor(private readonly worker: Worker) {
    worker.unref(); // an idle session never keeps the process alive
    worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: { name?: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error?.message ?? 'onnxruntime error'), { name: m.error?.name ?? 'Error' }));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`onnxruntime worker exited (code ${code})`)));
  }

  /** Loads `model` (file path or ONNX bytes) in a new worker thread. */
  static async open(model: string | Uint8Array, options: SessionOptions): Promise<OrtWorkerSession> {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const session = new OrtWorkerSession(new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } }));
    try {
      const info = (await session.call({ op: 'open', model, threads: options.threads })) as { inputs: ValueMeta[]; outputs: ValueMeta[] };
      session.inputs = info.inputs;
      session.outputs = info.outputs;
      return session;
    } catch (err) {
      await session.worker.terminate();
      throw err;
    }
  }

  /** Runs the model; feeds' buffers are copied to the worker, outputs come back as own arrays. */
  async run(feeds: Record<string, Feed>, outputs: string[]): Promise<Record<string, Output>> {
    return (await this.call({ op: 'run', feeds, outputs })) as Record<string, Output>;
  }

  /** Releases the session and stops the worker; later calls fail. */
  async release(): Promise<void> {
    if (this.dead) return;
    try {
      await this.call({ op: 'close' });
    } finally {
      this.dead = new Error('onnxruntime session released');
      await this.worker.terminate();
    }
  }

  private call(msg: Record<string, unknown>): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // keep the process alive while a call is in flight
      this.worker.postMessage({ ...msg, id });
    });
  }

  private fail(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
