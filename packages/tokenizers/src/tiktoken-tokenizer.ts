import type { Tokenizer } from '@nextlong/core';
import type { Tiktoken } from 'tiktoken/lite';

/**
 * A Tokenizer over a tiktoken BPE (wasm, ~1M tokens/s here). Special-token strings are
 * plain text: we only ever call `encode_ordinary`.
 */
export class TiktokenTokenizer implements Tokenizer {
  private readonly byteLen: Int32Array;
  constructor(
    readonly name: string,
    private readonly enc: Tiktoken,
    vocabSize: number,
    /** When ranks are not the vocabulary's ids (Hugging Face BPE): rank → id, and id → rank. */
    private readonly idOf?: Uint32Array,
    private readonly rankOf?: Map<number, number>,
  ) {
    this.byteLen = new Int32Array(vocabSize).fill(-1);
  }

  encode(text: string): Uint32Array {
    const ranks = this.enc.encode_ordinary(text);
    const idOf = this.idOf;
    if (!idOf) return ranks;
    for (let i = 0; i < ranks.length; i++) ranks[i] = idOf[ranks[i]!]!;
    return ranks;
  }

  count(text: string): number {
    return this.enc.encode_ordinary(text).length;
  }

  decode(ids: ArrayLike<number>): string {
    const ranks = Uint32Array.from(ids, (id) => this.rank(id));
    return new TextDecoder().decode(this.enc.decode(ranks));
  }

  prefixEnd(text: string, ids: Uint32Array, n: number): number {
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += this.tokenBytes(ids[i]!);
    return utf16IndexOfUtf8Offset(text, bytes);
  }

  private rank(id: number): number {
    if (!this.rankOf) return id;
    const r = this.rankOf.get(id);
    if (r === undefined) throw new Error(`${this.name}: token id ${id} is not in the vocabulary`);
    return r;
  }

  private tokenBytes(id: number): number {
    let len = this.byteLen[id];
    if (len === undefined || len < 0) {
      len = this.enc.decode_single_token_bytes(this.rank(id)).length;
      this.byteLen[id] = len;
    }
    return len;
  }
}

/** UTF-16 index where the first `bytes` UTF-8 bytes of `text` end, rounded down to a code point. */
export function utf16IndexOfUtf8Offset(text: string, bytes: number): number {
  // A cut near the end (the usual one: a sequence a little over its target) walks back from
  // the end instead of over the whole text. Byte counts agree: Buffer.byteLength, like the
  // walks, counts a lone surrogate as the 3 bytes of U+FFFD.
  const total = Buffer.byteLength(text, 'utf8');
  if (bytes >= total) return text.length;
  return total - bytes < bytes ? backward(text, bytes, total) : forward(text, bytes);
}

function forward(text: string, bytes: number): number {
  let b = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let width: number;
    let units = 1;
    if (c < 0x80) width = 1;
    else if (c < 0x800) width = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      width = 4;
      units = 2;
    } else width = 3;
    if (b + width > bytes) break;
    b += width;
    i += units;
  }
  return i;
}

/** The same boundary from the end: step back whole code points while past `bytes`. */
function backward(text: string, bytes: number, total: number): number {
  let b = total;
  let i = text.length;
  while (b > bytes) {
    const c = text.charCodeAt(i - 1);
    if (c < 0x80) b -= 1;
    else if (c < 0x800) b -= 2;
    else if (isLow(c) && i >= 2 && isHigh(text.charCodeAt(i - 2))) {
      b -= 4;
      i--;
    } else b -= 3;
    i--;
  }
  return i;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
