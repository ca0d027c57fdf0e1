import { Readable } from 'node:stream';
import binding from 'zstd-napi/binding.js';

/** Output buffer size the zstd library recommends for streaming (about 128 KiB). */
const OUT_SIZE = binding.dStreamOutSize();
/** Output buffers once past `runOnAfter`: a shard finishing its last line decodes little more than it needs. */
const RUN_ON_OUT_SIZE = 16 << 10;

/** Bytes zstdDecompress has produced in this process: what reading costs, for benches and tests. */
export const zstdDecompressed = { bytes: 0 };

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
 */
export async function* zstdDecompress(source: AsyncIterable<Buffer>, runOnAfter = Infinity): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  let inFrame = false;
  let consumedAll = 0;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      const dst = Buffer.allocUnsafe(consumedAll >= runOnAfter ? RUN_ON_OUT_SIZE : OUT_SIZE);
      const [ret, produced, consumed] = dctx.decompressStream(dst, src);
      consumedAll += consumed;
      if (produced > 0) {
        zstdDecompressed.bytes += produced;
        yield dst.subarray(0, produced);
      }
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
