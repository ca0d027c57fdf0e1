import type { Tokenizer } from '@nextlong/core';
import { fastSplitFor, type FastSplit } from './ascii-split.js';
import { bisect } from './bisect.js';
import { Liveness } from './liveness.js';
import { parsePattern, UnsupportedPattern } from './pattern.js';
import { toJsSource } from './pattern-source.js';
import type { TiktokenTokenizer } from './tiktoken-tokenizer.js';

/** Entries per generation of the pre-token cache (two generations are kept). */
const PRE_TOKENS_PER_GENERATION = 1 << 18;
/** Token ids per generation of the piece cache (ids + offsets ≈ 12 bytes a token). */
const PIECE_TOKENS_PER_GENERATION = 3_000_000;
/** Longer pieces are analysed but not kept: they are rarely placed twice. */
const MAX_CACHED_PIECE = 1 << 16;

/**
 * A tokenizer with the same ids as its raw tiktoken BPE, fast on texts joined from pieces it
 * has seen (`encodeParts`: a sequence of pool chunks, each placed many times).
 *
 * tiktoken's `encode_ordinary` splits the text with the pre-tokenizer pattern and runs BPE on
 * each pre-token on its own, so ids(text) = concat(bpe(pre-token)). A piece's own split and ids
 * are cached by its text; in a joined text its pre-tokens whose regex attempt cannot have
 * looked past the piece's end (liveness.ts) are the same, so their ids are copied. Only around
 * the joins the split is redone, in JavaScript (the pattern translated exactly, pattern.ts),
 * until it lands on one of the next piece's own pre-token starts; those pre-tokens' ids come
 * from a cache keyed by their text, a miss asking tiktoken for that one string (checked to be a
 * single pre-token by itself, else the whole text goes to tiktoken). Results never depend on
 * what is cached.
 */
export class CachedTokenizer implements Tokenizer {
  readonly name: string;
  /** Built on first use (a few tens of ms): planning and embed processes never pay for it. */
  private engine?: { sticky: RegExp; liveness: Liveness } | null;
  private readonly preTokens = new Generations<number | Uint32Array>(PRE_TOKENS_PER_GENERATION);
  private readonly pieces = new Generations<PieceInfo | null>(PIECE_TOKENS_PER_GENERATION);
  /** Texts that went to tiktoken whole (a pre-token that is not one by itself): for tests and logs. */
  slowPaths = 0;
  /** The pattern run by hand where it can be (ascii-split.ts), before the regex. */
  private readonly fast?: FastSplit;

  constructor(
    readonly raw: TiktokenTokenizer,
    private readonly pattern: string,
  ) {
    this.name = raw.name;
    this.fast = fastSplitFor(pattern);
  }

  /** False when the pattern is outside what pattern.ts runs exactly: then every text goes to tiktoken whole. */
  get splices(): boolean {
    return this.split() !== null;
  }

  private split(): { sticky: RegExp; liveness: Liveness } | null {
    if (this.engine !== undefined) return this.engine;
    try {
      const tree = parsePattern(this.pattern);
      this.engine = { sticky: new RegExp(toJsSource(tree), 'y'), liveness: new Liveness(tree) };
    } catch (err) {
      if (!(err instanceof UnsupportedPattern)) throw err;
      this.engine = null;
    }
    return this.engine;
  }

  /**
   * A single text: split here (the hand splitter makes that faster than tiktoken's own on new
   * text), each pre-token's ids from the cache or tiktoken. Not kept as a piece: one-off texts
   * (whole documents, meta-chunks) would only push pool chunks out of the piece cache.
   */
  encode(text: string): Uint32Array {
    if (!this.fast || !isWellFormed(text) || !this.split()) return this.raw.encode(text);
    const out = new IdBuffer(text.length);
    for (let pos = 0; pos < text.length;) {
      pos = this.step(text, pos, out);
      if (pos < 0) return this.slow(text);
    }
    return out.result();
  }

  count(text: string): number {
    return this.fast ? this.encode(text).length : this.raw.count(text);
  }

  /** encode(parts.join('')), reusing what is known about each part. */
  encodeParts(parts: readonly string[]): Uint32Array {
    const text = parts.join('');
    if (!isWellFormed(text) || !this.split()) return this.slow(text);
    const out = new IdBuffer(text.length);
    let k = 0;
    let partStart = 0;
    for (let pos = 0; pos < text.length;) {
      while (pos >= partStart + parts[k]!.length) partStart += parts[k++]!.length;
      const info = this.pieceInfo(parts[k]!);
      const j = info ? matchAt(info.starts, pos - partStart) : -1;
      if (info && j >= 0 && j < info.safe) {
        out.pushRange(info.ids, info.tokOff[j]!, info.tokOff[info.safe]!);
        pos = partStart + info.starts[info.safe]!;
        continue;
      }
      pos = this.step(text, pos, out);
      if (pos < 0) return this.slow(text);
    }
    return out.result();
  }

  decode(ids: ArrayLike<number>): string {
    return this.raw.decode(ids);
  }

  prefixEnd(text: string, ids: Uint32Array, n: number): number {
    return this.raw.prefixEnd(text, ids, n);
  }

  private slow(text: string): Uint32Array {
    this.slowPaths++;
    return this.raw.encode(text);
  }

  /** Splits one pre-token at `pos` and appends its ids; the end, or -1 where only tiktoken can say. */
  private step(text: string, pos: number, out: IdBuffer): number {
    const end = this.preTokenEnd(text, pos);
    // a gap (the pattern skips a character) or an empty match: tiktoken's own loop decides
    if (end <= pos) return -1;
    const ids = this.preTokenIds(text.slice(pos, end));
    if (ids === undefined) return -1;
    if (typeof ids === 'number') out.push(ids);
    else out.pushRange(ids, 0, ids.length);
    return end;
  }

  /** Where the pre-token at pos ends (≤ pos: no match there). */
  private preTokenEnd(text: string, pos: number): number {
    const end = this.fast ? this.fast(text, pos) : -1;
    if (end >= 0) return end;
    const sticky = this.engine!.sticky;
    sticky.lastIndex = pos;
    return sticky.test(text) ? sticky.lastIndex : -1;
  }

  private preTokenIds(piece: string): number | Uint32Array | undefined {
    const hit = this.preTokens.get(piece);
    if (hit !== undefined) return hit;
    if (this.preTokenEnd(piece, 0) !== piece.length) return undefined;
    const ids = this.raw.encode(piece);
    const v = ids.length === 1 ? ids[0]! : ids;
    this.preTokens.set(piece, v, 1);
    return v;
  }

  /** The piece's own split and ids, and how many of its pre-tokens hold whatever follows it. */
  private pieceInfo(piece: string): PieceInfo | null {
    const hit = this.pieces.get(piece);
    if (hit !== undefined) return hit;
    let info: PieceInfo | null = null;
    if (isWellFormed(piece)) {
      const out = new IdBuffer(piece.length);
      const starts: number[] = [];
      const tokOff: number[] = [];
      let pos = 0;
      while (pos >= 0 && pos < piece.length) {
        starts.push(pos);
        tokOff.push(out.length);
        pos = this.step(piece, pos, out);
      }
      if (pos >= 0) {
        const safe = this.engine!.liveness.firstUnsafe(piece, starts);
        starts.push(piece.length);
        tokOff.push(out.length);
        info = { ids: out.result(), starts: Uint32Array.from(starts), tokOff: Uint32Array.from(tokOff), safe };
      }
    }
    if (piece.length <= MAX_CACHED_PIECE) this.pieces.set(piece, info, info ? info.ids.length + 1 : 1);
    return info;
  }
}

interface PieceInfo {
  ids: Uint32Array;
  /** UTF-16 start of each pre-token, then the piece's length. */
  starts: Uint32Array;
  /** Index into ids of each pre-token's first id, then ids.length. */
  tokOff: Uint32Array;
  /** Pre-tokens 0..safe-1 are the same in any text that begins with this piece at a pre-token start. */
  safe: number;
}

/** An ES2024 string method: Node 20 has it, the project's TypeScript lib does not. */
interface Es2024String {
  isWellFormed(): boolean;
}

/** No lone surrogates (tiktoken sees each one as U+FFFD, one code unit for one: offsets hold). */
function isWellFormed(s: string): boolean {
  return (s as unknown as Es2024String).isWellFormed();
}

/** Index of the pre-token starting at `pos` (starts without its final length), or -1. */
function matchAt(starts: Uint32Array, pos: number): number {
  return bisect(starts.length - 1, (i) => pos - starts[i]!);
}

/** A bounded map: when the newer generation is full it becomes the older one; hits in the older move up. */
class Generations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private weight = 0;
  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o, 1);
    return o;
  }

  set(key: string, value: V, weight: number): void {
    if (this.weight + weight > this.limit) {
      this.old = this.young;
      this.young = new Map();
      this.weight = 0;
    }
    this.young.set(key, value);
    this.weight += weight;
  }
}

/** A growing Uint32Array of ids. */
class IdBuffer {
  private buf: Uint32Array;
  length = 0;
  constructor(chars: number) {
    this.buf = new Uint32Array(Math.max(16, chars >> 2));
  }
  push(id: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = id;
  }
  pushRange(ids: Uint32Array, from: number, to: number): void {
    if (this.length + (to - from) > this.buf.length) this.grow(to - from);
    this.buf.set(ids.subarray(from, to), this.length);
    this.length += to - from;
  }
  result(): Uint32Array {
    return this.buf.slice(0, this.length);
  }
  private grow(need: number): void {
    const next = new Uint32Array(Math.max(this.buf.length * 2, this.length + need));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

/** The raw tokenizer behind `t` (itself when it has no cache). */
export function rawTokenizer(t: Tokenizer): Tokenizer {
  return t instanceof CachedTokenizer ? t.raw : t;
}
