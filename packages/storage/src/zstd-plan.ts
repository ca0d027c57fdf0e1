import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import binding from 'zstd-napi/binding.js';
import { zstdLineScanner, type FrameStat } from './frame-scan.js';
import type { JsonlShardSpec, PlanOptions } from './shard-spec.js';
import { bucketStore, isS3 } from './input-source.js';
import { zstdFrameStarts } from './zstd-frames.js';

/** Local files at least this large (compressed) are scanned on the plan threads, when there are some. */
const PARALLEL_MIN_BYTES = 16 << 20;
/** Frame ranges handed to one thread: at least this many compressed bytes, and at most 4 per thread. */
const TASK_MIN_BYTES = 4 << 20;

/**
 * Plans a `.jsonl.zst` file: one decompression of every frame (on the plan threads for a large
 * local file, else streamed here) gives each frame's line and record counts; shards are then
 * runs of whole frames of about `shardDocs` records. A shard owns the records that start in its
 * frames (a line may run on into the next frame), so no shard decompresses another's frames.
 * A single-frame file is one shard, planned exactly as before (no frame fields).
 */
export async function planZstdShards(file: string, shardDocs: number, idBase: string, o: PlanOptions): Promise<JsonlShardSpec[]> {
  const stats = await frameStats(file, o);
  return shardsOfFrames(stats, shardDocs, (line) => `${idBase}-${line}`, file);
}

async function frameStats(file: string, o: PlanOptions): Promise<FrameStat[]> {
  if (!isS3(file) && o.threads) {
    const ranges = localRanges(file, o.threads.size, o.minParallelBytes ?? PARALLEL_MIN_BYTES);
    if (ranges) {
      const parts = await Promise.all(
        ranges.map(async ([a, b]) => {
          const s = await o.threads!.scan(file, a, b);
          o.onBytes?.(b - a);
          return s;
        }),
      );
      return parts.flat();
    }
  }
  const scanner = zstdLineScanner(new binding.DCtx(), binding.dStreamOutSize(), 0);
  let raw: Readable;
  if (isS3(file)) {
    const { store, key } = bucketStore(file);
    raw = store.getStream(key);
  } else raw = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      scanner.feed(chunk);
      o.onBytes?.(chunk.length);
    }
  } finally {
    raw.destroy();
  }
  return scanner.end();
}

/**
 * Frame ranges [start, end) of a local file for the plan threads: contiguous, in order, covering
 * the file (a malformed rest goes with the last range); undefined when the file is too small or
 * has fewer than two frames (one thread would scan it all anyway).
 */
function localRanges(file: string, threads: number, minBytes: number): [number, number][] | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined; // the streamed read reports it, as for any file
  }
  try {
    const size = fstatSync(fd).size;
    if (size < minBytes) return undefined;
    const { starts } = zstdFrameStarts((off, len) => {
      const b = Buffer.allocUnsafe(Math.max(0, Math.min(len, size - off)));
      const n = b.length ? readSync(fd, b, 0, b.length, off) : 0;
      return b.subarray(0, n);
    }, size);
    if (starts.length < 2) return undefined;
    const target = Math.max(TASK_MIN_BYTES, Math.ceil(size / (threads * 4)));
    const ranges: [number, number][] = [];
    let from = 0;
    for (const s of starts) {
      if (s - from >= target) {
        ranges.push([from, s]);
        from = s;
      }
    }
    ranges.push([from, size]);
    return ranges;
  } finally {
    closeSync(fd);
  }
}

/** Per frame: records that start in it, the line of the first one, and the line its first byte belongs to. */
interface FrameLines {
  records: number;
  firstRecord: number;
  lineAt: number;
  startsLine: boolean;
}

/** Numbers lines across frames in file order and gives each record to the frame its line starts in. */
function frameLines(stats: FrameStat[]): { frames: FrameLines[]; lineEnd: number; broken: boolean } {
  const frames: FrameLines[] = [];
  let line = 1; // the line open at the current position
  let openIn: number | undefined; // frame where the open line started (undefined: it starts at the next byte)
  let content = false;
  const add = (i: number, first: number, n: number) => {
    frames[i]!.records += n;
    frames[i]!.firstRecord = Math.min(frames[i]!.firstRecord, first);
  };
  for (const [i, s] of stats.entries()) {
    frames.push({ records: 0, firstRecord: Infinity, lineAt: line, startsLine: openIn === undefined });
    if (s.size > 0) {
      openIn ??= i;
      if (s.nl === 0) content ||= s.head;
      else {
        if (content || s.head) add(openIn, line, 1);
        if (s.inner > 0) add(i, line + 1 + s.firstInner, s.inner);
        line += s.nl;
        content = s.tail;
        openIn = s.endsNl ? undefined : i;
      }
    }
    // at a break the line cut short is no record (the reader rejects the file there)
    if (s.error !== undefined) return { frames, lineEnd: line + 1, broken: true };
  }
  if (content && openIn !== undefined) add(openIn, line, 1);
  return { frames, lineEnd: line + 1, broken: false };
}

function shardsOfFrames(stats: FrameStat[], shardDocs: number, idOf: (line: number) => string, file: string): JsonlShardSpec[] {
  const { frames, lineEnd, broken } = frameLines(stats);
  const shards: (JsonlShardSpec & { first: number })[] = [];
  for (const [i, f] of frames.entries()) {
    const cur = shards[shards.length - 1];
    if (f.records > 0 && (!cur || cur.records >= shardDocs)) {
      if (cur) {
        cur.lineEnd = f.startsLine ? f.lineAt : f.lineAt + 1;
        cur.frameEnd = stats[i]!.cStart;
      }
      // frames before the first record belong to the first shard
      const at = cur ? i : 0;
      shards.push({ id: idOf(f.firstRecord), file, lineStart: f.firstRecord, lineEnd, records: 0, first: at });
    }
    if (shards.length) shards[shards.length - 1]!.records += f.records;
  }
  if (shards.length === 0 && broken) shards.push({ id: idOf(lineEnd - 1), file, lineStart: lineEnd - 1, lineEnd, records: 0, first: 0 });
  if (shards.length > 1) {
    for (const s of shards) {
      s.frameStart = stats[s.first]!.cStart;
      s.frameLine = frames[s.first]!.lineAt;
    }
    delete shards[shards.length - 1]!.frameEnd; // the last shard reads to the end of the file
  }
  return shards.map(({ first: _, ...s }) => (s.frameStart === undefined ? withoutFrames(s) : s));
}

function withoutFrames(s: JsonlShardSpec): JsonlShardSpec {
  const { frameStart: _a, frameEnd: _b, frameLine: _c, ...rest } = s;
  return rest;
}
