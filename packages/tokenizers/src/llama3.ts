import { createRequire } from 'node:module';
import { Tiktoken } from 'tiktoken/lite';
import { byteLevelToBytes, ranksText } from './byte-level.js';
import { cachedRanks } from './rank-cache.js';
import { TiktokenTokenizer } from './tiktoken-tokenizer.js';

/** Llama-3's pre-tokenizer (the same pattern as cl100k). */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const REGULAR_TOKENS = 128000;
const SOURCE = 'llama3-tokenizer-js';
const require = createRequire(import.meta.url);

/**
 * Llama-3 (exact): the 128k BPE ranks come from the vocabulary shipped in
 * `llama3-tokenizer-js` (Llama-3 was trained with tiktoken, so rank = id), run by
 * tiktoken's wasm BPE for speed. The ranks are derived once per machine and cached
 * (rank-cache.ts): loading the source package alone takes seconds, so it is only
 * required on a cache miss.
 */
export function createLlama3(): TiktokenTokenizer {
  const version = (require(`${SOURCE}/package.json`) as { version: string }).version;
  const ranks = cachedRanks(`llama3-${SOURCE}-${version}`, buildRanks, (text) => text.endsWith(` ${REGULAR_TOKENS - 1}`));
  const enc = new Tiktoken(ranks, {}, LLAMA3_PATTERN);
  return new TiktokenTokenizer('llama3', enc, REGULAR_TOKENS);
}

function buildRanks(): string {
  // the package's CommonJS bundle: require() keeps createLlama3 synchronous
  const source = require(`${SOURCE}/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs`) as { llama3Tokenizer: { vocabById: string[] } };
  const vocab = source.llama3Tokenizer.vocabById;
  const tokens: Buffer[] = [];
  for (let id = 0; id < REGULAR_TOKENS; id++) tokens.push(byteLevelToBytes(vocab[id]!));
  return ranksText(tokens);
}
