/**
 * Word tokenizer for the static word-vector model (the engine and its rules:
 * static-tokenizer-engine.ts; its vocabulary table: static-vocab.ts).
 * static-tokenizer.pin.test.ts pins the ids to the original regex + Map implementation.
 */
import { readFile } from 'node:fs/promises';
import { type EncodedTexts, staticTokenizerEngine, type StaticTokenizerEngine } from './static-tokenizer-engine.js';

export { type EncodedTexts, staticTokenizerEngine, type StaticTokenizerEngine } from './static-tokenizer-engine.js';

/** The rules alone (no vocabulary), for foldText and wordTokens. */
const RULES = staticTokenizerEngine([]);

/** Case- and accent-folded text ("Café" → "cafe"), as GloVe's lowercased vocabulary expects. */
export function foldText(text: string): string {
  return RULES.fold(text);
}

/** GloVe-style surface tokens of `text`, before vocabulary lookup. */
export function wordTokens(text: string): string[] {
  return RULES.tokens(text);
}

export class StaticTokenizer {
  private readonly engine: StaticTokenizerEngine;

  /** `words[i]` gets id i + 1: id 0 is the padding row of the embedding table. */
  constructor(readonly words: readonly string[]) {
    this.engine = staticTokenizerEngine(words);
  }

  /** Reads a model folder's `vocab.json` (a JSON array of words). */
  static async fromFile(path: string): Promise<StaticTokenizer> {
    const words: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) {
      throw new Error(`${path}: expected a JSON array of words`);
    }
    return new StaticTokenizer(words);
  }

  /** Number of rows of the embedding table (vocabulary + padding). */
  get rows(): number {
    return this.words.length + 1;
  }

  /** Ids of the known words of `text` in order, unknown words dropped, at most `maxTokens`. */
  encode(text: string, maxTokens = Infinity): number[] {
    const ids = this.engine.encode(text, maxTokens);
    const out: number[] = [];
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    return out;
  }

  /** `encode` as an Int32Array. */
  encodeInt32(text: string, maxTokens = Infinity): Int32Array {
    return this.engine.encode(text, maxTokens);
  }

  /** `encode` of texts[from, to), concatenated into one buffer. */
  encodeMany(texts: readonly string[], maxTokens = Infinity, from = 0, to = texts.length): EncodedTexts {
    return this.engine.encodeMany(texts, maxTokens, from, to);
  }
}
