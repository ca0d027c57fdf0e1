/**
 * The usearch HNSW graph of an index build, held in a worker thread. An insert of one segment
 * and the save of the graph are single synchronous native calls that take seconds to minutes on a
 * large pool; on the caller's thread they would stall its event loop, and with it BullMQ's lock
 * renewal (a fleet worker's job would be taken as stalled and run twice).
 *
 * Determinism (DESIGN §3.4): the thread makes exactly the calls the build would make itself, in
 * the order they are posted — one `add(keys, vectors, 1)` per segment slice of its partition, then
 * `save` — so the graph file is byte-identical to one built on the main thread. (The batch
 * boundaries matter: usearch resets its level generator whenever an add grows the capacity, so a
 * segment is split only at partition bounds, which depend on the pool size alone.) Each partition
 * has its own thread and graph: threads share nothing, so building several at once changes no file.
 * The source is plain CommonJS in a string so it runs the same from src (tests) and dist.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { movableBuffers, ThreadCalls } from '@nextlong/core';
import type { HnswParams } from './index-layout.js';
import { SCALAR_KINDS, type VectorType } from './vector-types.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Index, MetricKind, ScalarKind } = require(workerData.usearchPath);
let index = null;
function handle(msg) {
  if (msg.op === 'open') {
    index = new Index({
      dimensions: msg.dim,
      metric: MetricKind.Cos,
      quantization: ScalarKind[msg.scalar],
      connectivity: msg.params.connectivity,
      expansion_add: msg.params.expansionAdd,
      expansion_search: msg.params.expansionSearch,
      multi: false,
    });
    return null;
  }
  // threads = 1: a parallel insert races on the graph and can change neighbours.
  if (msg.op === 'add') return index.add(msg.keys, msg.vectors, 1), index.size();
  if (msg.op === 'save') return index.save(msg.path), index.size();
  throw new Error('unknown op ' + msg.op);
}
parentPort.on('message', (msg) => {
  let reply;
  try {
    reply = { id: msg.id, ok: true, value: handle(msg) };
  } catch (e) {
    reply = { id: msg.id, ok: false, error: { name: e && e.name, message: String((e && e.message) || e) } };
  }
  parentPort.postMessage(reply);
});
`;

export class HnswBuildWorker {
  private readonly calls: ThreadCalls;
  /** Settles when the thread has exited (after `terminate`, an error, or an abort). */
  readonly exited: Promise<void>;
  private readonly onAbort = () => this.stop(this.signal?.reason ?? new Error('index build aborted'));

  private constructor(
    worker: Worker,
    private readonly signal?: AbortSignal,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.calls = new ThreadCalls(worker, {
      exitMessage: 'index build thread exited',
      errorPrefix: 'usearch: ',
      onFail: () => signal?.removeEventListener('abort', this.onAbort),
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Starts a thread holding an empty cosine graph of `dim` dimensions, stored as `type`. */
  static async open(dim: number, params: HnswParams, signal?: AbortSignal, type: VectorType = 'f32'): Promise<HnswBuildWorker> {
    signal?.throwIfAborted();
    const usearchPath = createRequire(import.meta.url).resolve('usearch');
    const w = new HnswBuildWorker(new Worker(WORKER_SOURCE, { eval: true, workerData: { usearchPath } }), signal);
    try {
      await w.calls.call({ op: 'open', dim, params: { ...params }, scalar: SCALAR_KINDS[type] });
      return w;
    } catch (err) {
      await w.terminate();
      throw err;
    }
  }

  /**
   * Inserts one segment's rows (keys and row-major vectors: float32, or int8 for an i8 graph);
   * resolves with the graph size. The vectors' buffer is moved to the thread: the caller's array
   * is detached once this is called.
   */
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array): Promise<number> {
    return this.calls.call({ op: 'add', keys, vectors }, movableBuffers([keys, vectors])) as Promise<number>;
  }

  /** Writes the graph to `path`; resolves with the graph size. */
  save(path: string): Promise<number> {
    return this.calls.call({ op: 'save', path }) as Promise<number>;
  }

  /** Stops the thread; resolves once it has exited (a native call in progress finishes first). */
  async terminate(): Promise<void> {
    this.stop(new Error('index build thread terminated'));
    await this.exited;
  }

  /** Fails every call now and stops the thread without waiting for it (abort). */
  private stop(reason: unknown): void {
    this.calls.fail(reason);
    void this.calls.worker.terminate();
  }
}
