import type { Tokenizer } from './ports.js';
import { Rng } from './rng.js';
import { codePointLength } from './text.js';

export type Placement = 'head' | 'tail' | 'random';

export interface Piece {
  type: 'meta' | 'negative';
  docId: string;
  chunk: number;
  text: string;
  score?: number;
}

/** One meta-chunk and its negatives, negatives in descending similarity. */
export interface Group {
  meta: Piece;
  negatives: Piece[];
}

/** A record segment (DESIGN §4): code point offsets into the sequence text, end exclusive. */
export interface Segment {
  type: 'meta' | 'negative';
  doc_id: string;
  chunk: number;
  start: number;
  end: number;
  score?: number;
}

/**
 * Orders the pieces: `head` = [mᵢ, nᵢ₁..nᵢₖ], `tail` = [nᵢ₁..nᵢₖ, mᵢ], `random` = mᵢ at a
 * seeded random position within its group. `trailing` pieces (exact budget overflow) go last.
 */
export function layout(groups: Group[], placement: Placement, rng: Rng, trailing: Piece[] = []): Piece[] {
  const out: Piece[] = [];
  for (const g of groups) {
    const pos = placement === 'head' ? 0 : placement === 'tail' ? g.negatives.length : rng.int(g.negatives.length + 1);
    out.push(...g.negatives.slice(0, pos), g.meta, ...g.negatives.slice(pos));
  }
  out.push(...trailing);
  return out;
}

/** Joins pieces with the separator and records each piece's code point span. */
export function joinPieces(pieces: Piece[], separator: string): { text: string; segments: Segment[] } {
  const sepLen = codePointLength(separator);
  const segments: Segment[] = [];
  let offset = 0;
  pieces.forEach((p, i) => {
    if (i > 0) offset += sepLen;
    const len = codePointLength(p.text);
    const seg: Segment = { type: p.type, doc_id: p.docId, chunk: p.chunk, start: offset, end: offset + len };
    if (p.score !== undefined) seg.score = roundScore(p.score);
    segments.push(seg);
    offset += len;
  });
  return { text: joinedParts(pieces, separator).join(''), segments };
}

/** [p₁, sep, p₂, sep, ...]: what joinPieces concatenates, for cutToTokens' `parts`. */
export function joinedParts(pieces: Piece[], separator: string): string[] {
  return pieces.flatMap((p, i) => (i > 0 ? [separator, p.text] : [p.text]));
}

/**
 * A tokenizer that encodes a concatenation from its parts, reusing what it knows of parts it
 * has seen (the tokenizers package's pre-token cache): same ids as encode(parts.join('')).
 */
export interface PartsEncoder {
  encodeParts(parts: readonly string[]): Uint32Array;
}

function hasEncodeParts(t: Tokenizer): t is Tokenizer & PartsEncoder {
  return typeof (t as Partial<PartsEncoder>).encodeParts === 'function';
}

/** Token count of parts.join(''). */
export function countParts(tokenizer: Tokenizer, parts: string[]): number {
  return hasEncodeParts(tokenizer) ? tokenizer.encodeParts(parts).length : tokenizer.count(parts.join(''));
}

/** encode(text.slice(0, end)) for any end, from the parts when the tokenizer can use them. */
function prefixEncoder(text: string, tokenizer: Tokenizer, parts?: string[]): (end: number) => Uint32Array {
  if (!parts || !hasEncodeParts(tokenizer)) return (end) => tokenizer.encode(end === text.length ? text : text.slice(0, end));
  return (end) => {
    const head: string[] = [];
    let at = 0;
    for (const p of parts) {
      if (at + p.length > end) {
        if (end > at) head.push(p.slice(0, end - at));
        break;
      }
      head.push(p);
      at += p.length;
    }
    return tokenizer.encodeParts(head);
  };
}

/** Scores in records are rounded so that output bytes do not depend on float noise. */
export function roundScore(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export interface CutResult {
  text: string;
  segments: Segment[];
  ids: Uint32Array;
}

/**
 * No prefix of the text tokenizes to exactly the target: the target token ends inside a code
 * point that the tokenizer spells with several tokens (an emoji or a rare CJK character in
 * byte-level BPE), so the prefixes around it have fewer and more tokens. The sequence is
 * discarded with reason `no_exact_cut`; it is never a shard failure.
 */
export class NoExactCutError extends Error {
  override readonly name = 'NoExactCutError';
}

/**
 * Cuts `text` so that tokenizing the result gives exactly `target` tokens, or returns null
 * (`too_short`) when the whole text has fewer. The cut starts at the end of token `target`
 * of the full encoding and is verified by re-tokenizing; at a BPE seam where the prefix
 * tokenizes differently it moves by code points until the count is exact. Throws
 * `NoExactCutError` when the cut is bracketed by adjacent code point boundaries with fewer and
 * more tokens (no exact prefix there). `parts` (text = parts.join('')) only make it faster.
 */
export function cutToTokens(text: string, segments: Segment[], tokenizer: Tokenizer, target: number, parts?: string[]): CutResult | null {
  const encode = prefixEncoder(text, tokenizer, parts);
  const full = encode(text.length);
  if (full.length < target) return null;
  if (full.length === target) return { text, segments, ids: full };
  let end = tokenizer.prefixEnd(text, full, target);
  let ids = encode(end);
  let below = -1; // largest cut seen with fewer tokens than the target
  let above = text.length; // smallest cut seen with more (the whole text has more)
  for (let step = 0; ids.length !== target; step++) {
    let next: number;
    if (ids.length > target) {
      above = Math.min(above, end);
      const back = tokenizer.prefixEnd(text, ids, target);
      next = back < end && back > below ? back : prevCodePoint(text, end);
    } else {
      below = Math.max(below, end);
      next = nextCodePoint(text, end);
    }
    if (next <= below || next >= above || step > 256) {
      throw new NoExactCutError(`no prefix of the sequence has exactly ${target} tokens (near offset ${end})`);
    }
    end = next;
    ids = encode(end);
  }
  const cutCp = codePointLength(text, 0, end);
  const kept = segments.filter((s) => s.start < cutCp).map((s) => (s.end > cutCp ? { ...s, end: cutCp } : s));
  return { text: text.slice(0, end), segments: kept, ids };
}

function prevCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && i >= 2 ? i - 2 : i - 1;
}

function nextCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? i + 2 : i + 1;
}
