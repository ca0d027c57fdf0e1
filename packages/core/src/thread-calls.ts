import type { Worker } from 'node:worker_threads';

/**
 * Request/reply calls to a worker thread that holds a native resource (an ONNX session, an HNSW
 * graph): each message carries an id, the thread answers `{id, ok, value | error}`. The thread
 * keeps the process alive only while a call is in flight; once it fails or exits, every pending
 * and later call rejects with that error.
 */
export class ThreadCalls {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private deadWith: unknown = null;
  private readonly onFail?: () => void;

  constructor(
    readonly worker: Worker,
    o: { exitMessage: string; errorPrefix?: string; onFail?: () => void },
  ) {
    worker.unref(); // an idle thread never keeps the process alive
    worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: { name?: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(`${o.errorPrefix ?? ''}${m.error?.message ?? 'error'}`), { name: m.error?.name ?? 'Error' }));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`${o.exitMessage} (code ${code})`)));
    this.onFail = o.onFail;
  }

  /** The error every call now fails with, or null while the thread serves. */
  get dead(): unknown {
    return this.deadWith;
  }

  call(msg: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.deadWith) return Promise.reject(this.deadWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // keep the process alive while a call is in flight
      try {
        this.worker.postMessage({ ...msg, id }, transfer);
      } catch (err) {
        // e.g. a detached buffer: nothing was sent
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(err);
      }
    });
  }

  /** Fails every pending and later call with `err` (the first failure wins). */
  fail(err: unknown): void {
    this.deadWith ??= err;
    this.onFail?.();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * The buffers of `views` that can be moved to a thread: only where moving hands over exactly the
 * view (a part of a buffer, an empty or a shared one is copied instead; an empty one also keeps a
 * detached buffer out of the transfer list). Checked by tag, not instanceof: jest's realms differ.
 */
export function movableBuffers(views: Iterable<ArrayBufferView>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of views) {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.byteLength > 0;
    if (whole && Object.prototype.toString.call(a.buffer) === '[object ArrayBuffer]') out.add(a.buffer as ArrayBuffer);
  }
  return [...out];
}
