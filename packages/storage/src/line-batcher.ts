/**
 * The line splitting of readLineBatches, done on a decode thread (line-thread.ts) into buffers
 * that cross to the reading thread without a copy. The function is self-contained (no imports,
 * node:buffer's functions passed in) because its source text is what the thread runs.
 */

/** How a line of a LineBatch is held: `meta` has [kind, a, b] per line. */
export const LineKind = {
  /** ASCII bytes [a, b) of `bytes` (decode as latin1: a copy, no UTF-8 decoding). */
  ascii: 0,
  /** UTF-16LE code units in `utf16[a]` (valid UTF-8 transcoded on the thread, BOM dropped). */
  utf16: 1,
  /** Not valid UTF-8. */
  invalid: 2,
  /** Only blanks (space, tab, '\r'), or empty: no record. */
  blank: 3,
  /** Over the byte limit, with a non-blank byte: `a` is its length in bytes (readLineBatches' `overLimit`). */
  over: 4,
} as const;

/** Lines `firstLine`, `firstLine + 1`, ... (`count` of them) as `meta` describes them. */
export interface LineBatch {
  firstLine: number;
  count: number;
  meta: Float64Array;
  bytes: ArrayBuffer;
  /** One buffer per non-ASCII line: transcode's own, moved as they are (no copy into one). */
  utf16: ArrayBuffer[];
}

export interface BatcherDeps {
  isAscii(b: Uint8Array): boolean;
  isUtf8(b: Uint8Array): boolean;
  transcode(b: Uint8Array, from: 'utf8', to: 'utf16le'): Uint8Array;
  alloc(size: number): Uint8Array;
}

export interface LineBatcher {
  /** Where the next input bytes go, at least `min` of them (write into it, then call wrote). */
  space(min: number): Uint8Array;
  wrote(n: number): void;
  /** Input ended: the last line, if it has no '\n'. */
  end(): void;
  /** The lines completed so far as one batch (undefined when none); the line in progress stays. */
  take(): LineBatch | undefined;
  /** Whether a batch is waiting, or enough lines for one. */
  full(): boolean;
}

/**
 * Lines of the bytes written into `space()`, numbered from `firstLine`, exactly as readLineBatches
 * gives them (same numbering, '\r' stripping, `maxBytes` markers, blanks); each line is also
 * classified and decoded as far as the thread can (see LineKind). Bytes stay where they were
 * written: a batch is the buffer they were written to, and only a line that runs past its end is
 * copied to the next one.
 */
export function lineBatcher(deps: BatcherDeps, firstLine: number, maxBytes: number, batchBytes: number): LineBatcher {
  let buf = deps.alloc(batchBytes);
  let len = 0; // bytes written to buf
  let start = 0; // the line in progress starts here
  let scanned = 0; // buf[start, scanned) holds no '\n'
  let first = firstLine;
  let meta = new Float64Array(3 * 64);
  let count = 0;
  let u16: ArrayBuffer[] = [];
  // while skipping an over-long line: its length so far, and whether it has a non-blank byte
  let skipped = -1;
  let content = false;
  // batches closed by space() before the reader took them
  const pending: LineBatch[] = [];

  function hasContent(b: Uint8Array, from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c !== 32 && c !== 9 && c !== 13) return true;
    }
    return false;
  }
  function push(kind: number, a: number, b: number): void {
    if (3 * count === meta.length) {
      const m = new Float64Array(meta.length * 2);
      m.set(meta);
      meta = m;
    }
    meta[3 * count] = kind;
    meta[3 * count + 1] = a;
    meta[3 * count + 2] = b;
    count++;
  }
  /** The line buf[s, e), '\n' excluded. */
  function line(s: number, e: number): void {
    if (e - s > maxBytes) {
      push(hasContent(buf, s, e) ? 4 : 3, e - s, 0);
      return;
    }
    if (e > s && buf[e - 1] === 13) e--;
    if (!hasContent(buf, s, e)) return push(3, 0, 0);
    const b = buf.subarray(s, e);
    if (deps.isAscii(b)) return push(0, s, e);
    if (!deps.isUtf8(b)) return push(2, 0, 0);
    const bom = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    const t = deps.transcode(b.subarray(bom), 'utf8', 'utf16le');
    // transcode's result is a whole buffer of its own (no pool): it can be moved as is
    const whole = t.byteOffset === 0 && t.byteLength === t.buffer.byteLength;
    push(1, u16.length, 0);
    u16.push(whole ? (t.buffer as ArrayBuffer) : (t.slice().buffer as ArrayBuffer));
  }
  function skippedLine(): void {
    push(content ? 4 : 3, skipped, 0);
    skipped = -1;
    content = false;
  }
  function batch(): LineBatch | undefined {
    if (count === 0) return undefined;
    const out: LineBatch = { firstLine: first, count, meta: meta.subarray(0, 3 * count), bytes: buf.buffer as ArrayBuffer, utf16: u16 };
    first += count;
    meta = new Float64Array(3 * 64);
    count = 0;
    u16 = [];
    return out;
  }
  return {
    space(min) {
      if (buf.length - len < min) {
        // the line in progress moves to a fresh buffer, with room for it to double
        const next = deps.alloc(Math.max(batchBytes, 2 * (len - start) + min));
        next.set(buf.subarray(start, len));
        const done = batch();
        if (done) pending.push(done);
        len -= start;
        scanned -= start;
        start = 0;
        buf = next;
      }
      return buf.subarray(len);
    },
    wrote(n) {
      len += n;
      const view = buf.subarray(0, len);
      for (;;) {
        const nl = view.indexOf(10, scanned);
        const end = nl === -1 ? len : nl;
        if (skipped >= 0) {
          skipped += end - start;
          content ||= hasContent(buf, start, end);
          if (end === len) {
            // the skipped bytes are dropped: the space is written again
            len = start;
            scanned = start;
            return;
          }
          skippedLine();
        } else if (end === len) {
          scanned = len;
          if (len - start > maxBytes) {
            skipped = len - start;
            content = hasContent(buf, start, len);
            len = start;
            scanned = start;
          }
          return;
        } else line(start, end);
        start = end + 1;
        scanned = start;
      }
    },
    end() {
      if (skipped >= 0) skippedLine();
      else if (len > start) line(start, len);
      start = len;
    },
    take() {
      const b = pending.shift();
      if (b) return b;
      // lines completed in buf: the bytes before `start` go, the line in progress stays in a fresh buffer
      if (count === 0) return undefined;
      const next = deps.alloc(Math.max(batchBytes, len - start));
      next.set(buf.subarray(start, len));
      const out = batch();
      len -= start;
      scanned -= start;
      start = 0;
      buf = next;
      return out;
    },
    full() {
      return pending.length > 0 || count >= 4096;
    },
  };
}
