import llama3Reference from 'llama3-tokenizer-js';
import { Tiktoken } from 'tiktoken/lite';
import { byteLevelToBytes, ranksText } from './byte-level.js';
import { TiktokenTokenizer } from './tiktoken-tokenizer.js';

/** Llama-3's pre-tokenizer (the same pattern as cl100k). */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const REGULAR_TOKENS = 128000;

/**
 * Llama-3 (exact): the 128k BPE ranks come from the vocabulary shipped in
 * `llama3-tokenizer-js` (Llama-3 was trained with tiktoken, so rank = id), run by
 * tiktoken's wasm BPE for speed.
 */
export function createLlama3(): TiktokenTokenizer {
  const vocab = llama3Reference.vocabById;
  const tokens: Buffer[] = [];
  for (let id = 0; id < REGULAR_TOKENS; id++) tokens.push(byteLevelToBytes(vocab[id]!));
  const enc = new Tiktoken(ranksText(tokens), {}, LLAMA3_PATTERN);
  return new TiktokenTokenizer('llama3', enc, REGULAR_TOKENS);
}
