/**
 * What planning needs to know about each zstd frame of a JSONL file, from one decompression of
 * it: enough to number lines and count records across frames without keeping any text, so that
 * frames can be scanned apart (in plan threads) and put together in file order afterwards.
 */
export interface FrameStat {
  /** Compressed byte range of the frame in the file. */
  cStart: number;
  cEnd: number;
  /** Decompressed bytes, '\n' bytes, and whether the last byte is '\n'. */
  size: number;
  nl: number;
  endsNl: boolean;
  /** Whether the bytes before the first '\n' (all of them when there is none) hold a non-blank byte. */
  head: boolean;
  /** Whether the bytes after the last '\n' hold a non-blank byte. */
  tail: boolean;
  /** Lines that start after a '\n' and end at a '\n' of this frame and hold a non-blank byte, and the index of the first one among those lines (-1: none). */
  inner: number;
  firstInner: number;
  /** The decoder's message when the frame is corrupt or cut short: the stats hold what decoded before it. */
  error?: string;
}

interface ZstdDCtx {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}

/**
 * A scanner for the compressed bytes of whole zstd frames starting at file offset `start`:
 * `feed` them in order, then `end` gives one FrameStat per frame (skippable frames are empty
 * frames). The decoder itself says where a frame ends (it returns 0 there and consumes nothing
 * past it). Self-contained (no imports, no outside names): plan threads run its source text.
 */
export function zstdLineScanner(dctx: ZstdDCtx, outSize: number, start: number): { feed(chunk: Buffer): void; end(): FrameStat[] } {
  const stats: FrameStat[] = [];
  const dst = Buffer.allocUnsafe(outSize); // scanned, never kept: one buffer for all output
  let pos = start;
  let failed = false;
  let f: FrameStat;
  let open = false; // whether the current frame has consumed input
  let seen = false; // whether the current frame has had a '\n'
  let cur = false; // whether the line open so far (in this frame) has a non-blank byte
  const blankless = (b: Buffer, from: number, to: number): boolean => {
    for (let i = from; i < to; i++) {
      const c = b[i];
      if (c !== 32 && c !== 9 && c !== 13) return true;
    }
    return false;
  };
  const begin = () => {
    f = { cStart: pos, cEnd: pos, size: 0, nl: 0, endsNl: false, head: false, tail: false, inner: 0, firstInner: -1 };
    open = seen = cur = false;
  };
  const close = () => {
    f.cEnd = pos;
    if (seen) f.tail = cur;
    else f.head = cur;
    stats.push(f);
    begin();
  };
  const scan = (b: Buffer) => {
    let p = 0;
    for (let q = b.indexOf(10, p); q !== -1; q = b.indexOf(10, p)) {
      const c = cur || blankless(b, p, q);
      if (!seen) {
        f.head = c;
        seen = true;
      } else if (c) {
        if (f.inner++ === 0) f.firstInner = f.nl - 1;
      }
      f.nl++;
      cur = false;
      p = q + 1;
    }
    if (!cur) cur = blankless(b, p, b.length);
    f.size += b.length;
    f.endsNl = b[b.length - 1] === 10;
  };
  begin();
  return {
    feed(chunk: Buffer) {
      let src = chunk;
      while (!failed) {
        let ret: number, produced: number, consumed: number;
        try {
          [ret, produced, consumed] = dctx.decompressStream(dst, src);
        } catch (e) {
          failed = true;
          f.error = String((e as Error)?.message ?? e);
          close();
          return;
        }
        if (consumed > 0) open = true;
        pos += consumed;
        src = src.subarray(consumed);
        if (produced > 0) scan(dst.subarray(0, produced));
        if (ret === 0 && open) close();
        if (src.length === 0 && (produced < dst.length || ret === 0)) return;
      }
    },
    end() {
      if (!failed && open) {
        f.error = 'Stream ended in middle of compressed data frame';
        close();
      }
      return stats;
    },
  };
}
