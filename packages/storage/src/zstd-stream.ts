import { Readable } from 'node:stream';
import binding from 'zstd-napi/binding.js';

/** Output buffer size the zstd library recommends for streaming (about 128 KiB). */
const OUT_SIZE = binding.dStreamOutSize();
/** Output buffers once past `runOnAfter`: a shard finishing its last line decodes little more than it needs. */
const RUN_ON_OUT_SIZE = 16 << 10;

/** Bytes zstdDecompress has produced in this process: what reading costs, for benches and tests. */
export const zstdDecompressed = { bytes: 0 };

/**
 * Output buffers a reader handed back (recycleOutput), for the next zstdDecompress to fill:
 * a warm buffer decompresses about a quarter faster than a fresh 128 KiB allocation (no page
 * faults, stays in cache) and leaves nothing for the GC. `lent` holds the buffers out now, so a
 * buffer handed back twice, or one that is not ours, is never reused.
 */
const spare: ArrayBuffer[] = [];
const lent = new WeakSet<ArrayBuffer>();
const MAX_SPARE = 8;

function outBuffer(size: number): Buffer {
  const ab = size === OUT_SIZE ? spare.pop() : undefined;
  const buf = ab ? Buffer.from(ab) : Buffer.allocUnsafeSlow(size);
  if (size === OUT_SIZE) lent.add(buf.buffer as ArrayBuffer);
  return buf;
}

/**
 * Hands back a buffer zstdDecompress yielded, once its reader and everything it passed the
 * bytes to are done with them: the next output overwrites it. Other buffers are ignored.
 */
export function recycleOutput(chunk: Buffer): void {
  const ab = chunk.buffer as ArrayBuffer;
  if (!lent.has(ab)) return;
  lent.delete(ab);
  if (spare.length < MAX_SPARE) spare.push(ab);
}

/**
 * Streaming zstd decompression that waits for its reader. zstd-napi's DecompressStream
 * decompresses a whole input chunk before it looks at backpressure: a 64 KiB read of a
 * decompression bomb (one block can stand for 128 KiB of output in 3 bytes) became gigabytes in
 * memory at once. Here each output buffer is handed over only when the reader asks for it, so
 * memory stays at one input chunk plus one output buffer whatever the ratio.
 *
 * Once `runOnAfter` input bytes are consumed, output comes in small buffers (see RUN_ON_OUT_SIZE).
 * Errors are the library's (a corrupt frame) or `Stream ended in middle of compressed data
 * frame` (a file cut short), as with DecompressStream; errors of `source` pass through unchanged.
 * A yielded buffer stays the reader's until it is handed to recycleOutput.
 */
export async function* zstdDecompress(source: AsyncIterable<Buffer>, runOnAfter = Infinity): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  let inFrame = false;
  let consumedAll = 0;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      const dst = outBuffer(consumedAll >= runOnAfter ? RUN_ON_OUT_SIZE : OUT_SIZE);
      const [ret, produced, consumed] = dctx.decompressStream(dst, src);
      consumedAll += consumed;
      if (produced > 0) {
        zstdDecompressed.bytes += produced;
        yield dst.subarray(0, produced);
      } else recycleOutput(dst);
      src = src.subarray(consumed);
      if (src.length === 0 && (produced < dst.length || ret === 0)) {
        inFrame = ret !== 0;
        break;
      }
    }
  }
  if (inFrame) throw new Error('Stream ended in middle of compressed data frame');
}

/** zstdDecompress as a Readable. */
export function zstdDecompressStream(source: AsyncIterable<Buffer>): Readable {
  return Readable.from(zstdDecompress(source), { objectMode: false, highWaterMark: OUT_SIZE });
}
