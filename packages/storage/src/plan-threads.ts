/**
 * Worker threads that decompress frame ranges of local zstd files for planning, so that a large
 * multi-frame file (or many files) is scanned on every core. Each thread reads its range itself
 * (no bytes cross threads) and answers the range's FrameStats; the plan puts them together in
 * file order, so the result does not depend on the number of threads or on timing. The thread
 * source is plain CommonJS in a string (the scanner's own source text) so it runs the same from
 * src (tests) and dist.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ThreadCalls } from '@nextlong/core';
import { zstdLineScanner, type FrameStat } from './frame-scan.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const binding = require(workerData.bindingPath);
const zstdLineScanner = ${zstdLineScanner.toString()};
const buf = Buffer.allocUnsafe(1 << 20);
function scan(file, start, end) {
  const fd = fs.openSync(file, 'r');
  try {
    const s = zstdLineScanner(new binding.DCtx(), binding.dStreamOutSize(), start);
    for (let off = start; off < end; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - off), off);
      if (n === 0) break;
      s.feed(buf.subarray(0, n));
      off += n;
    }
    return s.end();
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', (msg) => {
  let reply;
  try {
    reply = { id: msg.id, ok: true, value: scan(msg.file, msg.start, msg.end) };
  } catch (e) {
    reply = { id: msg.id, ok: false, error: { name: e && e.name, message: String((e && e.message) || e) } };
  }
  parentPort.postMessage(reply);
});
`;

/**
 * Up to `size` scan threads, started on first use; tasks queue until a thread is free. Close it
 * when planning is done.
 */
export class PlanThreads {
  private readonly idle: ThreadCalls[] = [];
  private readonly waiting: ((t: ThreadCalls) => void)[] = [];
  private readonly all: Worker[] = [];
  private closed = false;

  constructor(readonly size: number) {}

  /** The FrameStats of the whole frames in bytes [start, end) of a local zstd file. */
  async scan(file: string, start: number, end: number): Promise<FrameStat[]> {
    if (this.closed) throw new Error('plan threads are closed');
    const t = this.idle.pop() ?? this.spawn() ?? (await new Promise<ThreadCalls>((resolve) => this.waiting.push(resolve)));
    try {
      return (await t.call({ file, start, end })) as FrameStat[];
    } finally {
      const next = this.waiting.shift();
      if (next) next(t);
      else this.idle.push(t);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private spawn(): ThreadCalls | undefined {
    if (this.all.length >= this.size) return undefined;
    const bindingPath = createRequire(import.meta.url).resolve('zstd-napi/binding.js');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bindingPath } });
    this.all.push(w);
    return new ThreadCalls(w, { exitMessage: 'plan scan thread exited', errorPrefix: 'plan scan: ' });
  }
}
