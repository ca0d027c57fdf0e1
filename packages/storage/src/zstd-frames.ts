/**
 * Where the frames of a zstd file start, from frame and block headers alone (RFC 8878): no
 * decompression, a few bytes read per block. Multi-frame files (pzstd, the seekable format,
 * concatenated writers) can then be scanned and read frame range by frame range.
 */

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, a 4-byte size, then that many bytes. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** Reads `len` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, len: number) => Buffer;

/**
 * The start offsets of the file's frames in order (skippable ones included), and `end`: where
 * the last well-formed frame ends. `end < size` when the rest is not a whole frame (cut short,
 * not zstd): that rest is left to the decoder, which reports it where it reads it.
 */
export function zstdFrameStarts(read: ReadAt, size: number): { starts: number[]; end: number } {
  const starts: number[] = [];
  let off = 0;
  while (off < size) {
    const next = frameEnd(read, off, size);
    if (next === undefined) break;
    starts.push(off);
    off = next;
  }
  return { starts, end: off };
}

/** The end of the frame at `off`, or undefined when no whole, well-formed frame starts there. */
function frameEnd(read: ReadAt, off: number, size: number): number | undefined {
  const h = read(off, 18); // the longest frame header: magic 4 + descriptor 1 + window 1 + dict id 4 + content size 8
  if (h.length < 8) return undefined;
  const magic = h.readUInt32LE(0);
  if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    const end = off + 8 + h.readUInt32LE(4);
    return end <= size ? end : undefined;
  }
  if (magic !== ZSTD_MAGIC) return undefined;
  const fhd = h[4]!;
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const checksum = (fhd >> 2) & 1;
  if ((fhd >> 3) & 1) return undefined; // reserved bit
  const didBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  let p = off + 5 + (singleSegment ? 0 : 1) + didBytes + fcsBytes;
  for (;;) {
    const b = read(p, 3);
    if (b.length < 3) return undefined;
    const bh = b[0]! | (b[1]! << 8) | (b[2]! << 16);
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    if (type === 3) return undefined; // reserved block type
    p += 3 + (type === 1 ? 1 : bh >>> 3); // an RLE block holds one byte
    if (p > size) return undefined;
    if (last) break;
  }
  p += checksum * 4;
  return p <= size ? p : undefined;
}
