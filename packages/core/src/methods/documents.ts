import { countParts, cutToTokens, NoExactCutError, roundScore, type Segment } from '../assemble.js';
import type { Tokenizer } from '../ports.js';
import { codePointLength } from '../text.js';
import type { DocSegment, Method, MethodOutcome, MethodRecord } from './method.js';

/** One whole document of a sequence: its indexed chunks in chunk order (joined by '\n', as in the document). */
export interface DocPart {
  docId: string;
  chunks: { chunk: number; text: string }[];
  score?: number;
  keyword?: string;
}

export interface FillOptions {
  method: Method;
  tokenizer: Tokenizer;
  targetTokens: number;
  separator: string;
}

/** Tokens of slack before trying the cut: joins can tokenize a little differently than pieces. */
const MARGIN = 16;

/** Documents joined by the separator; each chunk becomes a segment (code point offsets). */
export function joinDocuments(docs: DocPart[], separator: string): { text: string; segments: DocSegment[]; parts: string[] } {
  const parts: string[] = [];
  const segments: DocSegment[] = [];
  const sepLen = codePointLength(separator);
  let offset = 0;
  docs.forEach((d, i) => {
    if (i > 0) {
      parts.push(separator);
      offset += sepLen;
    }
    d.chunks.forEach((c, j) => {
      if (j > 0) {
        parts.push('\n');
        offset += 1;
      }
      const len = codePointLength(c.text);
      const seg: DocSegment = { type: i === 0 ? 'meta' : 'document', doc_id: d.docId, chunk: c.chunk, start: offset, end: offset + len };
      if (i > 0 && d.score !== undefined) seg.score = roundScore(d.score);
      if (i > 0 && d.keyword !== undefined) seg.keyword = d.keyword;
      segments.push(seg);
      parts.push(c.text);
      offset += len;
    });
  });
  return { text: parts.join(''), segments, parts };
}

/**
 * Appends documents from `next` after `first` until the joined text reaches T tokens, then cuts
 * it to exactly T (the last document cut to fit, as the NExtLong assembly does). `placed` is the
 * number of documents with text inside the T tokens; documents taken from `next` beyond them
 * are returned in `unused` (ICLM starts its next sequence with them).
 */
export function fillDocuments(first: DocPart, next: () => DocPart | undefined, o: FillOptions): MethodOutcome & { unused: DocPart[] } {
  const docs = [first];
  let tokens = docTokens(first, o);
  let exhausted = false;
  for (;;) {
    if (tokens >= o.targetTokens + MARGIN || exhausted) {
      const j = joinDocuments(docs, o.separator);
      let cut: ReturnType<typeof cutToTokens>;
      try {
        // cutToTokens reads only start/end of the segments and keeps their other fields
        cut = cutToTokens(j.text, j.segments as unknown as Segment[], o.tokenizer, o.targetTokens, j.parts);
      } catch (err) {
        if (err instanceof NoExactCutError) return { kind: 'discarded', reason: 'no_exact_cut', placed: docs.length, unused: [] };
        throw err;
      }
      if (cut) {
        const segments = cut.segments as unknown as DocSegment[];
        const placed = new Set(segments.map((s) => s.doc_id)).size;
        const record: MethodRecord = {
          id: first.docId,
          text: cut.text,
          num_tokens: cut.ids.length,
          tokenizer: o.tokenizer.name,
          meta_doc_id: first.docId,
          method: o.method,
          segments,
        };
        return { kind: 'written', record, ids: cut.ids, placed, unused: docs.slice(placed) };
      }
      if (exhausted) return { kind: 'discarded', reason: 'too_short', placed: docs.length, unused: [] };
    }
    const d = next();
    if (!d) exhausted = true;
    else {
      docs.push(d);
      tokens += docTokens(d, o);
    }
  }
}

/** A document's tokens with the separator before it (they tokenize together, as in the sequence). */
function docTokens(d: DocPart, o: FillOptions): number {
  return countParts(o.tokenizer, [o.separator, ...d.chunks.flatMap((c, j) => (j > 0 ? ['\n', c.text] : [c.text]))]);
}
