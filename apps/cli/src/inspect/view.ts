import type { Tokenizer } from '@nextlong/core';
import { jsonForScript } from './escape.js';
import type { Picked } from './sample.js';

/** One segment as the explorer shows it. */
export interface ViewSegment {
  type: string;
  doc_id: string;
  chunk: number;
  /** Code point range, as in the record. */
  start: number;
  end: number;
  score?: number;
  /** UTF-16 range into `text`, for the browser's slice. */
  u16: [number, number];
  /** Token range (pieces and separators tokenized one by one; the last is cut at num_tokens). */
  tokens?: [number, number];
}

export interface ViewSequence {
  id: string;
  meta_doc_id: string;
  num_tokens: number;
  tokenizer: string;
  placement: string;
  method?: string;
  shard: string;
  ordinal: number;
  text_chars: number;
  /** Absent when left out to keep the report within its size budget. */
  text?: string;
  segments: ViewSegment[];
}

/**
 * The explorer's view of picked records, in sample order, within `budgetBytes` of embedded JSON:
 * first the segments of as many sequences as fit, then, with what is left, their texts in order.
 * Code point offsets are mapped to UTF-16; token ranges are added where the text is kept.
 */
export function viewSequences(picked: Picked[], budgetBytes: number, tokenizer: Tokenizer | undefined): ViewSequence[] {
  let used = 0;
  const out: ViewSequence[] = [];
  const texts: string[] = [];
  for (const { record: r, shard, ordinal } of picked) {
    const u16 = utf16Cursor(r.text);
    const segments = r.segments.map((s) => {
      const v: ViewSegment = {
        type: s.type,
        doc_id: s.doc_id,
        chunk: s.chunk,
        start: s.start,
        end: s.end,
        u16: [u16(s.start), u16(s.end)],
      };
      if ('score' in s && typeof s.score === 'number') v.score = s.score;
      return v;
    });
    const v: ViewSequence = {
      id: r.id,
      meta_doc_id: r.meta_doc_id,
      num_tokens: r.num_tokens,
      tokenizer: r.tokenizer,
      placement: r.placement,
      shard,
      ordinal,
      text_chars: r.text.length,
      segments,
    };
    if (r.method !== undefined) v.method = String(r.method);
    const bytes = Buffer.byteLength(jsonForScript(v)) * 1.15; // token ranges come later
    if (used + bytes > budgetBytes) break;
    used += bytes;
    out.push(v);
    texts.push(r.text);
  }
  out.forEach((v, i) => {
    // as embedded: escapes (\n, \u003c, ...) make code-heavy text up to a fifth longer
    const textBytes = Buffer.byteLength(jsonForScript(texts[i]!), 'utf8');
    if (used + textBytes > budgetBytes) return;
    used += textBytes;
    v.text = texts[i]!;
    if (tokenizer) addTokenRanges(v.text, v.segments, v.num_tokens, tokenizer);
  });
  return out;
}

/**
 * Token ranges by tokenizing each piece and each separator on its own: exact where pieces meet
 * at pre-token boundaries (the usual case: the separator is whitespace between words), within a
 * token otherwise. Cheaper than offsets from one encode of the whole text, which the port lacks.
 */
function addTokenRanges(text: string, segs: ViewSegment[], numTokens: number, tok: Tokenizer): void {
  let at = 0;
  let prevEnd = 0;
  for (const s of segs) {
    if (s.u16[0] > prevEnd) at += tok.count(text.slice(prevEnd, s.u16[0]));
    const start = Math.min(at, numTokens);
    at += tok.count(text.slice(s.u16[0], s.u16[1]));
    s.tokens = [start, Math.min(at, numTokens)];
    prevEnd = s.u16[1];
  }
  const last = segs.at(-1);
  if (last?.tokens) last.tokens[1] = numTokens;
}

/** Code point offset → UTF-16 index for offsets asked in ascending order: one pass over the text. */
export function utf16Cursor(text: string): (cp: number) => number {
  let cp = 0;
  let i = 0;
  return (target) => {
    if (target < cp) {
      cp = 0;
      i = 0;
    }
    while (cp < target && i < text.length) {
      const c = text.charCodeAt(i);
      const d = text.charCodeAt(i + 1);
      i += c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
      cp++;
    }
    return i;
  };
}
