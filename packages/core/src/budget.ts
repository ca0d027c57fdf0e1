import type { Tokenizer } from './ports.js';
import { codePointLength } from './text.js';

export interface PaperBudgetInput {
  targetTokens: number; // T
  charsPerToken: number; // E
  weight: number; // w (paper: 1.5)
  docChars: number; // S, code points
  metaChunks: number; // p
  chunkChars: number; // s
}

/** Negatives per meta-chunk, paper App. D.1: k = ceil((T·E·w − S) / (p·s)), k < 0 → 0. */
export function paperNegativesPerChunk(b: PaperBudgetInput): number {
  if (b.metaChunks <= 0) return 0;
  const k = Math.ceil((b.targetTokens * b.charsPerToken * b.weight - b.docChars) / (b.metaChunks * b.chunkChars));
  return Math.max(0, k);
}

/** E: code points per token of `tokenizer` over a text sample. */
export function measureCharsPerToken(tokenizer: Tokenizer, sample: Iterable<string>): number {
  let chars = 0;
  let tokens = 0;
  for (const text of sample) {
    chars += codePointLength(text);
    tokens += tokenizer.count(text);
  }
  if (tokens === 0) throw new Error('cannot measure characters per token: the sample has no tokens');
  return chars / tokens;
}

/**
 * The `exact` budget (ours): cumulative token targets for the negatives of each group so
 * that all meta-chunks stay inside T. Group i (0-based) may hold negatives while the
 * running negative-token total stays ≤ cumulative[i]; the last group fills to reach T.
 */
export function exactGroupTargets(targetTokens: number, metaTokens: number[], sepTokens: number): number[] {
  const p = metaTokens.length;
  const meta = metaTokens.reduce((a, b) => a + b, 0) + Math.max(0, p - 1) * sepTokens;
  const room = Math.max(0, targetTokens - meta);
  return metaTokens.map((_, i) => Math.floor((room * (i + 1)) / p));
}
