/** Unicode code point helpers: every offset and length in our records counts code points. */

/** Any surrogate code unit: found by the regex engine without a loop here (at once on one-byte strings). */
const SURROGATE = /[\ud800-\udfff]/;

/** Number of code points in `s[from, to)` (UTF-16 surrogate pairs count once). */
export function codePointLength(s: string, from = 0, to = s.length): number {
  if (from === 0 && to === s.length && !SURROGATE.test(s)) return s.length;
  let n = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    // a high surrogate followed by a low one is one code point
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** UTF-16 index of the code point offset `cp` in `s` (clamped to the end). */
export function utf16Index(s: string, cp: number): number {
  let i = 0;
  for (let k = 0; k < cp && i < s.length; k++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** Slice by code point offsets, end exclusive. */
export function sliceCodePoints(s: string, start: number, end: number): string {
  const a = utf16Index(s, start);
  const b = a + utf16Index(s.slice(a), end - start);
  return s.slice(a, b);
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Normalized form for duplicate detection: case-folded, whitespace collapsed, trimmed. */
export function normalizeForDedup(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** 53-bit string hash (cyrb53): stable across runs and platforms, no I/O. */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Hash of a chunk's normalized text: equal hashes mean text duplicates. */
export function textHash(s: string): number {
  return hash53(normalizeForDedup(s));
}
