import { existsSync } from 'node:fs';
import { ConfigError, type Tokenizer } from '@nextlong/core';
import { createFromTokenizerJson } from './hf-json.js';
import { createLlama3, LLAMA3_PATTERN } from './llama3.js';
import { createOpenAi } from './openai.js';
import { OPENAI_PATTERNS } from './openai-patterns.js';
import { CachedTokenizer } from './pretoken-cache.js';

export { TiktokenTokenizer, utf16IndexOfUtf8Offset } from './tiktoken-tokenizer.js';
export { createLlama3, LLAMA3_PATTERN } from './llama3.js';
export { createOpenAi } from './openai.js';
export { createFromTokenizerJson } from './hf-json.js';
export { CachedTokenizer, rawTokenizer } from './pretoken-cache.js';
export { OPENAI_PATTERNS } from './openai-patterns.js';

export const BUILTIN_TOKENIZERS = ['llama3', 'cl100k', 'o200k'] as const;

const cache = new Map<string, Tokenizer>();

/**
 * `llama3` | `cl100k` | `o200k` | a path to a byte-level BPE tokenizer.json. Cached per process.
 * Built-ins come with the pre-token cache (same ids as tiktoken, faster); `rawTokenizer` gives tiktoken itself.
 */
export function loadTokenizer(spec: string): Tokenizer {
  let t = cache.get(spec);
  if (t) return t;
  if (spec === 'llama3') t = new CachedTokenizer(createLlama3(), LLAMA3_PATTERN);
  else if (spec === 'cl100k' || spec === 'o200k') t = new CachedTokenizer(createOpenAi(spec), OPENAI_PATTERNS[spec]);
  else if (spec.endsWith('.json') && existsSync(spec)) t = createFromTokenizerJson(spec);
  else
    throw new ConfigError(
      `tokenizer: unknown tokenizer "${spec}" (allowed: ${BUILTIN_TOKENIZERS.join(', ')}, or the path of an existing tokenizer.json)`,
    );
  cache.set(spec, t);
  return t;
}
