import { hash53 } from './text.js';

/**
 * BM25 over chunk texts (`retriever: bm25`, ours after LiteLong App. D): the terms of a text,
 * their ids, and the weights both sides of a score use. One definition for every backend, so
 * the local inverted index (vectors/bm25-*.ts) and Qdrant's sparse vectors score alike:
 *
 *   score(q, d) = Σ over the distinct terms t of q:  idf(t) · tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl))
 *   idf(t)      = ln(1 + (N − df + 0.5) / (df + 0.5))       (Qdrant's `modifier: idf` formula)
 *
 * Terms: maximal runs of letters and digits, lower-cased. A term id is a 32-bit hash of the term
 * (Qdrant's sparse indices are u32); two terms sharing one merge (~30 pairs in a 500k vocabulary).
 */

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** A BM25 query: its distinct term ids, ascending (each weighs 1: the idf does the weighting). */
export interface SparseQuery {
  indices: Uint32Array;
  values: Float32Array;
}

const TERM = /[\p{L}\p{N}]+/gu;

/** The terms of `text`, in order, repeats included. */
export function termsOf(text: string): string[] {
  return text.toLowerCase().match(TERM) ?? [];
}

export function termId(term: string): number {
  return hash53(term) % 4294967296;
}

/** Term frequencies of a text by term id, and its length in terms. */
export function termCounts(text: string): { counts: Map<number, number>; length: number } {
  const counts = new Map<number, number>();
  const terms = termsOf(text);
  for (const t of terms) {
    const id = termId(t);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return { counts, length: terms.length };
}

/** The query of a text: its distinct term ids, ascending, each with weight 1. */
export function bm25Query(text: string): SparseQuery {
  const indices = Uint32Array.from(termCounts(text).counts.keys()).sort();
  return { indices, values: new Float32Array(indices.length).fill(1) };
}

/** A document's weight for a term it holds `tf` times (the saturated, length-normalized tf). */
export function bm25Weight(tf: number, length: number, avgLength: number): number {
  const norm = avgLength > 0 ? 1 - BM25_B + (BM25_B * length) / avgLength : 1;
  return (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * norm);
}

export function bm25Idf(chunks: number, df: number): number {
  return Math.log(1 + (chunks - df + 0.5) / (df + 0.5));
}

/** The query encoder of the bm25 retriever (in the place of an embedder). */
export const bm25Encoder = {
  name: 'bm25',
  async embed(texts: string[]): Promise<SparseQuery[]> {
    return texts.map(bm25Query);
  },
};
