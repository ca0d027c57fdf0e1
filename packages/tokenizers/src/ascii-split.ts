/**
 * The cl100k / Llama-3 pre-tokenizer pattern, run by hand on ASCII:
 *
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *
 * A regex attempt at one position costs about half a microsecond (its classes are the Unicode
 * tables spelled out); this costs a few table lookups. It answers only where every character
 * the attempt looks at is ASCII — whose classes are fixed: letters A–Z a–z, digits 0–9,
 * whitespace \t \n \v \f \r and space, everything else punctuation — and returns -1 anywhere a
 * non-ASCII character could change the answer (a letter after "caf", a Unicode space, ſ after
 * an apostrophe, …), so the caller asks the regex. ascii-split.test.ts checks it against the
 * regex position by position.
 */

import { LLAMA3_PATTERN } from './llama3.js';

/** A pre-token splitter by hand: the end of the pre-token at pos, or -1 (ask the regex). */
export type FastSplit = (text: string, pos: number) => number;

/** The hand splitter for `pattern`, when there is one (Llama-3's, which is cl100k's). */
export function fastSplitFor(pattern: string): FastSplit | undefined {
  return pattern === LLAMA3_PATTERN ? cl100kAsciiSplit : undefined;
}

const LETTER = 1;
const DIGIT = 2;
const NEWLINE = 3; // \r \n
const SPACE = 4; // other whitespace
const PUNCT = 5;

const CLASS = new Uint8Array(128).fill(PUNCT);
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = CLASS[c + 0x20] = LETTER;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
for (const c of [0x09, 0x0b, 0x0c, 0x20]) CLASS[c] = SPACE;
CLASS[0x0a] = CLASS[0x0d] = NEWLINE;

/** Unknown (non-ASCII: the caller asks the regex) for code units ≥ 0x80. */
const UNKNOWN = 0;
/** Past the end of the text. */
const END = 6;

function classAt(text: string, i: number): number {
  if (i >= text.length) return END;
  const c = text.charCodeAt(i);
  return c < 0x80 ? CLASS[c]! : UNKNOWN;
}

/** The lower-cased ASCII letter at i, or 0 (not an ASCII letter, or the end). */
function lowerAt(text: string, i: number): number {
  const c = i < text.length ? text.charCodeAt(i) : 0;
  return c < 0x80 && CLASS[c] === LETTER ? c | 0x20 : 0;
}

/** End of the run of class `cls` from i, or -1 when it stops at a non-ASCII character. */
function runEnd(text: string, i: number, cls: number): number {
  for (;;) {
    const k = classAt(text, i);
    if (k === cls) i++;
    else return k === UNKNOWN ? -1 : i;
  }
}

/** The end of the pre-token at `pos` (pos < text.length), or -1 when only the regex can tell. */
export function cl100kAsciiSplit(text: string, pos: number): number {
  const c = classAt(text, pos);
  if (c === UNKNOWN) return -1;
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (text.charCodeAt(pos) === 0x27) {
    if (classAt(text, pos + 1) === UNKNOWN) return -1;
    const a = lowerAt(text, pos + 1);
    if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return pos + 2; // s t m d
    if (a === 0x72 || a === 0x76 || a === 0x6c) {
      if (classAt(text, pos + 2) === UNKNOWN) return -1;
      const b = lowerAt(text, pos + 2);
      if ((b === 0x65 && a !== 0x6c) || (b === 0x6c && a === 0x6c)) return pos + 3; // re ve ll
    }
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c === LETTER) return runEnd(text, pos + 1, LETTER);
  const next = classAt(text, pos + 1);
  if (c !== NEWLINE && c !== DIGIT) {
    if (next === UNKNOWN) return -1;
    if (next === LETTER) return runEnd(text, pos + 2, LETTER);
  }
  // \p{N}{1,3}
  if (c === DIGIT) {
    let i = pos + 1;
    for (; i < pos + 3; i++) {
      const k = classAt(text, i);
      if (k === UNKNOWN) return -1;
      if (k !== DIGIT) break;
    }
    return i;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const punctFrom = c === PUNCT ? pos : text.charCodeAt(pos) === 0x20 && next === PUNCT ? pos + 1 : -1;
  if (punctFrom >= 0) {
    let end = runEnd(text, punctFrom + 1, PUNCT);
    // [\r\n]* is those two characters only: no other character can extend it
    if (end >= 0) while (classAt(text, end) === NEWLINE) end++;
    return end;
  }
  // whitespace from here: its maximal run decides the last three alternatives
  let end = pos;
  let lastNewline = -1;
  for (;;) {
    const k = classAt(text, end);
    if (k === UNKNOWN) return -1;
    if (k !== SPACE && k !== NEWLINE) break;
    if (k === NEWLINE) lastNewline = end;
    end++;
  }
  if (lastNewline >= 0) return lastNewline + 1; // \s*[\r\n]+
  if (end === text.length || end - pos === 1) return end; // \s+(?!\S) at the end, else \s+
  return end - 1; // \s+(?!\S): leave the last space to the next pre-token
}
