import { Readable } from 'node:stream';
import binding from 'zstd-napi/binding.js';

/** Output buffer size the zstd library recommends for streaming (about 128 KiB). */
const OUT_SIZE = binding.dStreamOutSize();

/**
 * Streaming zstd decompression that waits for its reader. zstd-napi's DecompressStream
 * decompresses a whole input chunk before it looks at backpressure: a 64 KiB read of a
 * decompression bomb (one block can stand for 128 KiB of output in 3 bytes) became gigabytes in
 * memory at once. Here each output buffer is handed over only when the reader asks for it, so
 * memory stays at one input chunk plus one output buffer whatever the ratio.
 *
 * Errors are the library's (a corrupt frame) or `Stream ended in middle of compressed data
 * frame` (a file cut short), as with DecompressStream; errors of `source` pass through unchanged.
 */
export function zstdDecompressStream(source: AsyncIterable<Buffer>): Readable {
  async function* decompress(): AsyncGenerator<Buffer> {
    const dctx = new binding.DCtx();
    let inFrame = false;
    for await (const chunk of source) {
      let src = chunk;
      for (;;) {
        const dst = Buffer.allocUnsafe(OUT_SIZE);
        const [ret, produced, consumed] = dctx.decompressStream(dst, src);
        if (produced > 0) yield dst.subarray(0, produced);
        src = src.subarray(consumed);
        if (src.length === 0 && (produced < dst.length || ret === 0)) {
          inFrame = ret !== 0;
          break;
        }
      }
    }
    if (inFrame) throw new Error('Stream ended in middle of compressed data frame');
  }
  return Readable.from(decompress(), { objectMode: false, highWaterMark: OUT_SIZE });
}
