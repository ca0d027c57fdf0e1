/**
 * Reading a local `.zst` on a second thread: the thread reads the file, decompresses it, splits
 * and classifies the lines (line-batcher.ts) and transcodes non-ASCII lines to UTF-16; the
 * reader's thread gets batches of buffers (moved, not copied) and is left with a copy per line
 * into a string and JSON.parse. Pays off when a core is free; the batches in flight are bounded
 * (a credit count in shared memory), so memory stays at a few batches whatever the file.
 * The thread source is plain CommonJS in a string so it runs the same from src (tests) and dist.
 */
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { decoderFailure } from './input-errors.js';
import { isS3 } from './input-source.js';
import { lineBatcher, type LineBatch } from './line-batcher.js';
import { compressionOf } from './line-reader.js';
import { zstdDecompressed } from './zstd-stream.js';

/**
 * When readShard reads on a thread: local `.zst` files of at least `minBytes` (smaller ones
 * finish before a thread would help). Tests set 0 (always) or Infinity (never).
 */
export const lineThreads = { minBytes: 1 << 20 };

/** Bytes of lines per batch, and batches in flight (decoded, not yet taken) per reader. */
const BATCH_BYTES = 1 << 20;
const WINDOW = 4;
/** Batch buffers are whole MiBs, and a thread keeps this many handed back for reuse. */
const ALLOC_UNIT = 1 << 20;
const MAX_FREE = 12;
/** Idle threads kept for the next reader, and how long. */
const MAX_IDLE = 4;
const IDLE_MS = 10_000;

const WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
const { isAscii, isUtf8, transcode } = require('node:buffer');
const binding = require(workerData.bindingPath);
const lineBatcher = ${lineBatcher.toString()};
// batch buffers come back from the reader once read (workerData.back): a warm buffer is no page
// faults and no munmap, a fresh 1 MiB one costs both on every batch
const free = [];
function alloc(n) {
  if (n === 0) return Buffer.alloc(0);
  for (let m; (m = receiveMessageOnPort(workerData.back)); ) if (free.length < ${MAX_FREE}) free.push(m.message);
  for (let i = 0; i < free.length; i++) if (free[i].byteLength >= n) return Buffer.from(free.splice(i, 1)[0]);
  return Buffer.allocUnsafeSlow(Math.ceil(n / ${ALLOC_UNIT}) * ${ALLOC_UNIT});
}
const deps = { isAscii, isUtf8, transcode, alloc };
const OUT = binding.dStreamOutSize();
const RUN_ON_OUT = 16 << 10;
// reads and output buffers of the sizes the stream path uses (createReadStream, zstdDecompress):
// zstd returns the same output before an error, so a corrupt file breaks at the same line
const input = Buffer.allocUnsafeSlow(64 << 10);
const errorOf = (e, source) => ({ source, name: e && e.name, message: String((e && e.message) || e), code: e && e.code, errno: e && e.errno, syscall: e && e.syscall, path: e && e.path });
parentPort.on('message', (job) => parentPort.postMessage({ done: true, ...run(job) }));
function run(job) {
  const ctl = new Int32Array(job.ctl);
  const stopped = () => Atomics.load(ctl, 1) !== 0;
  let produced = 0;
  let consumed = 0;
  let lb = lineBatcher(deps, job.firstLine, job.maxBytes, job.batchBytes);
  // sends every batch ready (all lines so far with \`all\`); false once the reader has stopped
  const send = (all) => {
    while (all || lb.full()) {
      const b = lb.take();
      if (!b) return true;
      for (;;) {
        if (stopped()) return false;
        const c = Atomics.load(ctl, 0);
        if (c > 0) { Atomics.sub(ctl, 0, 1); break; }
        Atomics.wait(ctl, 0, c, 1000);
      }
      b.decompressed = produced;
      produced = 0;
      parentPort.postMessage({ batch: b }, [b.bytes, b.meta.buffer, ...b.utf16.filter((u) => u.byteLength > 0)]);
    }
    return true;
  };
  let fd;
  try {
    fd = fs.openSync(job.file, 'r');
  } catch (e) {
    return { error: errorOf(e, true) };
  }
  try {
    const dctx = new binding.DCtx();
    let inFrame = false;
    let at = job.start;
    for (;;) {
      if (stopped()) return {};
      let n;
      try {
        const upTo = at < job.rangeEnd ? job.rangeEnd : Infinity;
        n = fs.readSync(fd, input, 0, Math.min(input.length, upTo - at), at);
      } catch (e) {
        if (!send(true)) return {};
        return { error: errorOf(e, true) };
      }
      if (n === 0) break;
      at += n;
      let src = input.subarray(0, n);
      for (;;) {
        const runOn = consumed >= job.runOnAfter;
        const size = runOn ? RUN_ON_OUT : OUT;
        const dst = lb.space(size).subarray(0, size);
        let r;
        try {
          r = dctx.decompressStream(dst, src);
        } catch (e) {
          if (!send(true)) return {};
          return { error: errorOf(e, false), decoded: produced };
        }
        const [ret, out, used] = r;
        consumed += used;
        produced += out;
        lb.wrote(out);
        if (!send(runOn)) return {};
        src = src.subarray(used);
        if (src.length === 0 && (out < dst.length || ret === 0)) {
          inFrame = ret !== 0;
          break;
        }
      }
    }
    if (inFrame) {
      if (!send(true)) return {};
      return { error: errorOf(new Error('Stream ended in middle of compressed data frame'), false) };
    }
    lb.end();
    send(true);
    return { decompressed: produced };
  } finally {
    fs.closeSync(fd);
  }
}
`;

interface ThreadError {
  source: boolean;
  name?: string;
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}
type Msg = { batch: LineBatch & { decompressed: number } } | { done: true; error?: ThreadError; decompressed?: number };

/** A decode thread and the port its read batch buffers go back through. */
interface Thread {
  worker: Worker;
  back: MessagePort;
}

const idle: Thread[] = [];
let reaper: NodeJS.Timeout | undefined;

function spawn(): Thread {
  const bindingPath = createRequire(import.meta.url).resolve('zstd-napi/binding.js');
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bindingPath, back: port2 }, transferList: [port2] });
  port1.unref();
  const t = { worker, back: port1 };
  const drop = () => {
    const i = idle.indexOf(t);
    if (i >= 0) idle.splice(i, 1);
    port1.close();
  };
  worker.on('error', drop);
  worker.on('exit', drop);
  return t;
}

function release(t: Thread): void {
  t.worker.unref();
  if (idle.length >= MAX_IDLE) {
    void t.worker.terminate();
    return;
  }
  idle.push(t);
  clearTimeout(reaper);
  reaper = setTimeout(() => {
    for (const i of idle.splice(0)) void i.worker.terminate();
  }, IDLE_MS);
  reaper.unref();
}

/** Whether readShard reads this file on a thread (whole-file or frame shards of a large enough local `.zst`). */
export function readsOnThread(file: string): boolean {
  if (isS3(file) || compressionOf(file) !== 'zstd' || lineThreads.minBytes === Infinity) return false;
  try {
    return statSync(file).size >= lineThreads.minBytes;
  } catch {
    return false; // the usual path reports it
  }
}

/**
 * The lines of a local `.zst` from compressed byte `start` (a frame boundary), numbered from
 * `firstLine`, in batches; past `runOnAfter` compressed bytes, in small batches. A batch's
 * buffers go back to the thread when the next batch is asked for: copy out what is kept. Errors are
 * those of openInput's stream: a decoder failure is a CorruptInputError naming the file (after
 * the lines decoded before it), a read error passes through with its code. Stopping early (the
 * consumer returns) stops the thread at its next batch.
 */
export async function* threadLineBatches(
  file: string,
  maxBytes: number,
  o: { start?: number; firstLine?: number; runOnAfter?: number } = {},
): AsyncGenerator<LineBatch> {
  const t = idle.pop() ?? spawn();
  const w = t.worker;
  const ctl = new Int32Array(new SharedArrayBuffer(8)); // [credit, stop]
  ctl[0] = WINDOW;
  const queue: Msg[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  const onMessage = (m: Msg) => {
    queue.push(m);
    wake?.();
  };
  const onError = (e: unknown) => {
    failure ??= e;
    wake?.();
  };
  const onExit = (code: number) => onError(new Error(`line decode thread exited (code ${code})`));
  w.on('message', onMessage).on('error', onError).on('exit', onExit);
  w.ref();
  let done = false;
  try {
    const runOnAfter = o.runOnAfter ?? Infinity;
    const start = o.start ?? 0;
    const rangeEnd = start + runOnAfter;
    w.postMessage({ file, start, rangeEnd, firstLine: o.firstLine ?? 1, maxBytes, runOnAfter, batchBytes: BATCH_BYTES, ctl: ctl.buffer });
    let decoded = 0;
    for (;;) {
      while (queue.length === 0 && failure === undefined) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const m = queue.shift();
      if (!m) throw failure;
      if ('batch' in m) {
        zstdDecompressed.bytes += m.batch.decompressed;
        decoded += m.batch.decompressed;
        yield m.batch;
        // the reader is done with the batch's bytes: back to the thread for the next batches
        t.back.postMessage(m.batch.bytes, [m.batch.bytes]);
        Atomics.add(ctl, 0, 1);
        Atomics.notify(ctl, 0);
        continue;
      }
      done = true;
      zstdDecompressed.bytes += m.decompressed ?? 0;
      if (m.error) throw rebuild(file, m.error, decoded);
      return;
    }
  } finally {
    w.off('message', onMessage).off('error', onError).off('exit', onExit);
    if (done) release(t);
    else if (failure !== undefined) void w.terminate();
    else {
      // stopped early: the thread drops what it holds and says done, then serves the next reader
      Atomics.store(ctl, 1, 1);
      Atomics.notify(ctl, 0);
      w.unref();
      const back = (m: Msg) => {
        if (!('done' in m)) return;
        w.off('message', back);
        release(t);
      };
      w.on('message', back);
    }
  }
}

function rebuild(file: string, e: ThreadError, decoded: number): Error {
  const err = Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
  return e.source ? err : decoderFailure(file, 'zstd', err, decoded);
}
