import type { Segment } from '../assemble.js';
import type { DiscardReason } from '../sequence.js';

/** The data conditions of the paper's Table 1 (DESIGN §5 `--method`). */
export const METHODS = ['nextlong', 'standard', 'knn', 'iclm', 'quest'] as const;
export type Method = (typeof METHODS)[number];

/**
 * A record segment of a comparison method: one indexed chunk of a whole document. The first
 * document of a sequence (its anchor) is `meta`, the others `document`; `score` is the cosine
 * of the document's vector to the anchor's (to the previous document's for iclm); `keyword`
 * (quest) is the keyword the document was grouped by.
 */
export interface DocSegment {
  type: 'meta' | 'document';
  doc_id: string;
  chunk: number;
  start: number;
  end: number;
  score?: number;
  keyword?: string;
}

/** The output record of a comparison method: DESIGN §4's, without `placement`. */
export interface MethodRecord {
  id: string;
  text: string;
  num_tokens: number;
  tokenizer: string;
  meta_doc_id: string;
  method: Method;
  segments: DocSegment[];
}

export type MethodOutcome =
  | { kind: 'written'; record: MethodRecord; ids: Uint32Array; placed: number }
  | { kind: 'discarded'; reason: DiscardReason; placed: number };

/** Segments of both kinds of record, for code that reads either. */
export type AnySegment = Segment | DocSegment;
