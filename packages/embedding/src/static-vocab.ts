/**
 * The static tokenizer's byte classes and vocabulary table (static-tokenizer-engine.ts scans with
 * them): an open-addressing hash table of the GloVe words with linear probing, where a word of up
 * to 8 ASCII characters is packed into two ints so the scanner checks a token without a string.
 */

/** Plain ASCII text (no Unicode folding needed). */
export const ASCII = /^[\x00-\x7f]*$/;

// ---- bytes as the regex sees them (ASCII); every byte of a non-ASCII character is SLOW ----
// classes: 1 = \s (ends tokens and runs), 2 = [\p{L}\p{N}], 3 = ' and 4 = - (join word parts,
// else punctuation), 5 = other punctuation (a one-character token), 6 = SLOW (regex rules)
export const SPACE = 1;
export const WORD = 2;
export const APOS = 3;
export const HYPHEN = 4;
export const SLOW = 6;
export const CLASS = new Uint8Array(256).fill(SLOW);
export const LOWER = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const s = String.fromCharCode(c);
  CLASS[c] = /\s/.test(s) ? SPACE : /[\p{L}\p{N}]/u.test(s) ? WORD : s === "'" ? APOS : s === '-' ? HYPHEN : 5;
  LOWER[c] = s.toLowerCase().charCodeAt(0);
}

// ---- the vocabulary: open addressing, linear probing, 4 ints a slot ----
// [hash, id (0 = empty), lo, hi]: a word of 1 to 8 ASCII characters packed big-endian into
// hi:lo (the scanner packs a token the same way, so a short token is checked without leaving
// the slot), else lo = hi = -1 and the word is checked against its code units in `units`.

/** Hash of a packed short word (multiplicative, high bits folded down for the slot index). */
const hashShort = (lo: number, hi: number): number => {
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca77), 0x9e3779b1);
  return h ^ (h >>> 15);
};
/** Hash of any other word: FNV-1a over its code units (lowercased bytes of a token), then an avalanche step. */
const hashLong = (units: ArrayLike<number>, start: number, end: number, lower: boolean): number => {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (lower ? LOWER[units[i]] : units[i]), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
};
const codes = (s: string): number[] => Array.from(s, (_, i) => s.charCodeAt(i));
/** [lo, hi] of an ASCII word of 1 to 8 characters, else undefined. */
const pack = (s: string): [number, number] | undefined => {
  if (s.length === 0 || s.length > 8 || !ASCII.test(s)) return undefined;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < s.length; i++) {
    hi = (hi << 8) | (lo >>> 24);
    lo = (lo << 8) | s.charCodeAt(i);
  }
  return [lo, hi];
};
const hashWord = (s: string): number => {
  const p = pack(s);
  return p ? hashShort(p[0], p[1]) : hashLong(codes(s), 0, s.length, false);
};

/** Lookups into the table of one vocabulary (ids are 1-based: `words[i]` has id i + 1; 0 = unknown). */
export interface VocabTable {
  /** Id of a word, or 0. */
  idOf(w: string): number;
  /** Id of a token of 1 to 8 bytes packed into hi:lo, or 0. */
  findShort(lo: number, hi: number): number;
  /** Id of the lowercased bytes b[start, end), or 0. */
  find(b: Uint8Array, start: number, end: number): number;
  /** Id of each one-character ASCII token, 0 if not a word. */
  single: Int32Array;
  notId: number;
}

export function vocabTable(words: readonly string[]): VocabTable {
  let total = 0;
  for (const w of words) total += w.length;
  /** Code units of all words: word id k spans units[unitStart[k - 1], unitStart[k]). */
  const units = new Uint16Array(total);
  const unitStart = new Int32Array(words.length + 1);
  let size = 16;
  while (size < words.length * 2) size *= 2;
  const mask = size - 1;
  const slots = new Int32Array(size * 4);

  const wordIs = (id: number, w: string): boolean => {
    const at = unitStart[id - 1];
    if (unitStart[id] - at !== w.length) return false;
    for (let q = 0; q < w.length; q++) if (units[at + q] !== w.charCodeAt(q)) return false;
    return true;
  };
  /** Id of a word, or 0. */
  const idOf = (w: string): number => {
    const h = hashWord(w);
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = slots[4 * slot + 1];
      if (id === 0) return 0;
      if (slots[4 * slot] === h && wordIs(id, w)) return id;
    }
  };
  for (let i = 0, at = 0; i < words.length; i++) {
    const w = words[i];
    for (let j = 0; j < w.length; j++) units[at + j] = w.charCodeAt(j);
    at += w.length;
    unitStart[i + 1] = at;
    const h = hashWord(w);
    let slot = h & mask;
    // a repeated word keeps the later id, as a Map built from the list would
    while (slots[4 * slot + 1] !== 0 && !(slots[4 * slot] === h && wordIs(slots[4 * slot + 1], w))) slot = (slot + 1) & mask;
    const [lo, hi] = pack(w) ?? [-1, -1];
    slots.set([h, i + 1, lo, hi], 4 * slot);
  }
  /** Id of each one-character ASCII token, 0 if not a word. */
  const single = Int32Array.from({ length: 128 }, (_, c) => idOf(String.fromCharCode(LOWER[c])));
  const notId = idOf('not');

  /** Id of a token of 1 to 8 bytes packed into hi:lo, or 0. */
  const findShort = (lo: number, hi: number): number => {
    for (let slot = hashShort(lo, hi) & mask; ; slot = (slot + 1) & mask) {
      const at = 4 * slot;
      const id = slots[at + 1];
      if (id === 0 || (slots[at + 2] === lo && slots[at + 3] === hi)) return id;
    }
  };
  /** Id of the lowercased bytes b[start, end), or 0. */
  const find = (b: Uint8Array, start: number, end: number): number => {
    const len = end - start;
    if (len <= 8) {
      let lo = 0;
      let hi = 0;
      for (let q = start; q < end; q++) {
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | LOWER[b[q]];
      }
      return findShort(lo, hi);
    }
    const h = hashLong(b, start, end, true);
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = 4 * slot;
      const id = slots[at + 1];
      if (id === 0) return 0;
      if (slots[at] === h && slots[at + 2] === -1 && unitStart[id] - unitStart[id - 1] === len) {
        let q = 0;
        while (q < len && units[unitStart[id - 1] + q] === LOWER[b[start + q]]) q++;
        if (q === len) return id;
      }
    }
  };
  return { idOf, findShort, find, single, notId };
}
