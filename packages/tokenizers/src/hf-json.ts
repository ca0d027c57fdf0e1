import { readFileSync } from 'node:fs';
import { ConfigError } from '@nextlong/core';
import { Tiktoken } from 'tiktoken/lite';
import { byteLevelToBytes, ranksText } from './byte-level.js';
import { CachedTokenizer } from './pretoken-cache.js';
import { TiktokenTokenizer } from './tiktoken-tokenizer.js';

interface HfTokenizerJson {
  normalizer?: unknown;
  pre_tokenizer?: HfPreTokenizer | null;
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
}
interface HfPreTokenizer {
  type: string;
  pattern?: { Regex?: string; String?: string };
  pretokenizers?: HfPreTokenizer[];
  use_regex?: boolean;
  add_prefix_space?: boolean;
}

const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * A Hugging Face `tokenizer.json` with a byte-level BPE model (GPT-2, Llama-3, Qwen,
 * Mistral-Nemo style). Its merges become tiktoken ranks (a token's rank is the position of
 * the merge that makes it), so the BPE runs in tiktoken and `decode`/offsets are exact.
 * Added/special tokens are not honoured: special-token strings are plain text. The pre-token
 * cache is used when the split pattern is one we run exactly in JavaScript (pattern.ts), else
 * tiktoken tokenizes every text whole.
 */
export function createFromTokenizerJson(file: string): CachedTokenizer {
  let json: HfTokenizerJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as HfTokenizerJson;
  } catch (err) {
    throw new ConfigError(`tokenizer: cannot read ${file}: ${(err as Error).message}`);
  }
  const model = json.model;
  if (model?.type !== 'BPE' || !model.vocab || !model.merges) {
    throw new ConfigError(`tokenizer: ${file}: only byte-level BPE tokenizer.json files are supported (model.type is ${model?.type})`);
  }
  if (json.normalizer) throw new ConfigError(`tokenizer: ${file}: tokenizers with a normalizer are not supported`);
  const pattern = bytePattern(json.pre_tokenizer, file);
  const { ranks, idOfRank } = ranksFromMerges(model.vocab, model.merges, file);
  const rankOf = new Map<number, number>();
  idOfRank.forEach((id, rank) => rankOf.set(id, rank));
  const enc = new Tiktoken(ranksText(ranks), {}, pattern);
  const raw = new TiktokenTokenizer(`tokenizer.json:${file}`, enc, idOfRank.reduce((a, b) => Math.max(a, b), 0) + 1, idOfRank, rankOf);
  return new CachedTokenizer(raw, pattern);
}

function bytePattern(pre: HfPreTokenizer | null | undefined, file: string): string {
  const steps = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : pre ? [pre] : [];
  const split = steps.find((s) => s.type === 'Split');
  const byteLevel = steps.find((s) => s.type === 'ByteLevel');
  if (!byteLevel) throw new ConfigError(`tokenizer: ${file}: the pre-tokenizer is not byte-level`);
  // a prefix space would change the ids of the first word and shift every offset
  if (byteLevel.add_prefix_space) throw new ConfigError(`tokenizer: ${file}: ByteLevel add_prefix_space is not supported`);
  if (split?.pattern?.Regex) return split.pattern.Regex;
  if (byteLevel.use_regex !== false) return GPT2_PATTERN;
  throw new ConfigError(`tokenizer: ${file}: unsupported pre-tokenizer`);
}

/** Single bytes first (in id order), then each merge's result in merge order. */
function ranksFromMerges(vocab: Record<string, number>, merges: (string | [string, string])[], file: string) {
  const ranks: Buffer[] = [];
  const idOfRank: number[] = [];
  const seen = new Set<string>();
  const add = (tok: string) => {
    const id = vocab[tok];
    if (id === undefined || seen.has(tok)) return;
    seen.add(tok);
    ranks.push(byteLevelToBytes(tok));
    idOfRank.push(id);
  };
  const singles = Object.entries(vocab)
    .filter(([t]) => [...t].length === 1)
    .sort((a, b) => a[1] - b[1]);
  for (const [t] of singles) add(t);
  if (ranks.length < 256) throw new ConfigError(`tokenizer: ${file}: the vocabulary does not cover all 256 bytes`);
  for (const m of merges) {
    const [a, b] = typeof m === 'string' ? m.split(' ') : m;
    add(`${a}${b}`);
  }
  return { ranks, idOfRank: Uint32Array.from(idOfRank) };
}
