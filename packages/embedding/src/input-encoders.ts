/**
 * Text → token ids for the two model kinds: our word tokenizer for the static model, and a
 * Hugging Face tokenizer.json (the `tokenizers` napi binding) for transformer models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@nextlong/core';
import tokenizers from 'tokenizers';
import { StaticTokenizer } from './static-tokenizer.js';

/** One tokenized text; `typeIds` only where the tokenizer produces them (BERT segment ids). */
export interface EncodedText {
  ids: number[];
  typeIds?: number[];
}

export interface InputEncoder {
  readonly maxTokens: number;
  encode(texts: string[]): Promise<EncodedText[]>;
}

export class StaticInputEncoder implements InputEncoder {
  constructor(
    private readonly tokenizer: StaticTokenizer,
    readonly maxTokens: number,
  ) {}

  async encode(texts: string[]): Promise<EncodedText[]> {
    return texts.map((t) => ({ ids: this.tokenizer.encode(t, this.maxTokens) }));
  }
}

type HfTokenizer = InstanceType<typeof tokenizers.Tokenizer>;

/**
 * tokenizer.json through the Rust tokenizers library: its normalizer, pre-tokenizer, model and
 * post-processor ([CLS] … [SEP]) apply exactly as in Python. Padding is ours (per bucket),
 * truncation is set to `maxTokens` and counts the special tokens.
 */
export class HfInputEncoder implements InputEncoder {
  private constructor(
    private readonly tokenizer: HfTokenizer,
    readonly maxTokens: number,
  ) {}

  static fromFile(file: string, maxTokens: number): HfInputEncoder {
    let tokenizer: HfTokenizer;
    try {
      tokenizer = tokenizers.Tokenizer.fromFile(file);
    } catch (err) {
      throw new ConfigError(`model: cannot read tokenizer ${file}: ${(err as Error).message}`);
    }
    tokenizer.disablePadding();
    tokenizer.setTruncation(maxTokens);
    return new HfInputEncoder(tokenizer, maxTokens);
  }

  async encode(texts: string[]): Promise<EncodedText[]> {
    if (texts.length === 0) return [];
    const encodings = await this.tokenizer.encodeBatch(texts);
    return encodings.map((e) => ({ ids: e.getIds(), typeIds: e.getTypeIds() }));
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // a broken side file only loses a default, it is not needed to run
  }
}

/**
 * The longest input a transformer folder declares: sentence-transformers' max_seq_length
 * (what the model was trained with), else the tokenizer's model_max_length, else the
 * position table size, else 512. tokenizer.json's own `truncation` is ignored: exporters
 * often leave an arbitrary value there (MiniLM's says 128).
 */
export function declaredMaxTokens(dir: string): number {
  const candidates = [
    readJson(join(dir, 'sentence_bert_config.json'))?.max_seq_length,
    readJson(join(dir, 'tokenizer_config.json'))?.model_max_length,
    readJson(join(dir, 'config.json'))?.max_position_embeddings,
  ];
  for (const c of candidates) {
    // model_max_length is 1e30 when unset: only trust plausible values
    if (typeof c === 'number' && Number.isInteger(c) && c > 0 && c <= 1 << 16) return c;
  }
  return 512;
}
