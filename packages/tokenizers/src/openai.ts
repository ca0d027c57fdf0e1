import { createRequire } from 'node:module';
import { Tiktoken } from 'tiktoken/lite';
import { TiktokenTokenizer } from './tiktoken-tokenizer.js';

const require = createRequire(import.meta.url);

interface EncodingFile {
  pat_str: string;
  bpe_ranks: string;
}

/** cl100k_base / o200k_base from the rank files shipped in the `tiktoken` package. */
export function createOpenAi(name: 'cl100k' | 'o200k'): TiktokenTokenizer {
  const file = require(`tiktoken/encoders/${name}_base.json`) as EncodingFile;
  const enc = new Tiktoken(file.bpe_ranks, {}, file.pat_str);
  const size = name === 'cl100k' ? 100256 : 199998;
  return new TiktokenTokenizer(name, enc, size + 1024);
}
