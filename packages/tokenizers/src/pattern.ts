import { categoryRanges, WHITE_SPACE, type Ranges } from './unicode-16.js';

/**
 * The pre-tokenizer patterns of tiktoken (Rust regex syntax, run by fancy-regex) parsed into
 * a small syntax tree, so that JavaScript can run the same split: `(?i:...)` is expanded (Node
 * 20 has no inline flags), `\s` and `\p{..}` become explicit Unicode 16 classes. Anything
 * outside the subset below is refused (`UnsupportedPattern`): the caller then keeps plain
 * tiktoken, never a guess.
 *
 * Subset: literals, `.`, classes `[...]` (ranges, negation, escapes, `\p{..}`), `\s \S \d \D`,
 * `\pX \p{X} \PX \P{X}` for General_Category values and White_Space, groups `(...)`, `(?:...)`,
 * `(?i:...)` over ASCII, lookahead `(?=...)` `(?!...)`, alternation, greedy and lazy `? * + {n,m}`.
 */
export type Node =
  | { t: 'set'; ranges: Ranges }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number; lazy: boolean }
  | { t: 'look'; node: Node; neg: boolean };

export class UnsupportedPattern extends Error {
  override readonly name = 'UnsupportedPattern';
}

const MAX_CP = 0x10ffff;

const GC: Record<string, string[]> = {
  l: ['Lu', 'Ll', 'Lt', 'Lm', 'Lo'],
  letter: ['Lu', 'Ll', 'Lt', 'Lm', 'Lo'],
  lc: ['Lu', 'Ll', 'Lt'],
  casedletter: ['Lu', 'Ll', 'Lt'],
  m: ['Mn', 'Mc', 'Me'],
  mark: ['Mn', 'Mc', 'Me'],
  combiningmark: ['Mn', 'Mc', 'Me'],
  n: ['Nd', 'Nl', 'No'],
  number: ['Nd', 'Nl', 'No'],
  p: ['Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po'],
  punctuation: ['Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po'],
  punct: ['Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po'],
  s: ['Sm', 'Sc', 'Sk', 'So'],
  symbol: ['Sm', 'Sc', 'Sk', 'So'],
  z: ['Zs', 'Zl', 'Zp'],
  separator: ['Zs', 'Zl', 'Zp'],
  c: ['Cc', 'Cf', 'Cs', 'Co', 'Cn'],
  other: ['Cc', 'Cf', 'Cs', 'Co', 'Cn'],
};
const LONG_LEAF: Record<string, string> = {
  uppercaseletter: 'Lu',
  lowercaseletter: 'Ll',
  titlecaseletter: 'Lt',
  modifierletter: 'Lm',
  otherletter: 'Lo',
  nonspacingmark: 'Mn',
  spacingmark: 'Mc',
  enclosingmark: 'Me',
  decimalnumber: 'Nd',
  digit: 'Nd',
  letternumber: 'Nl',
  othernumber: 'No',
  connectorpunctuation: 'Pc',
  dashpunctuation: 'Pd',
  openpunctuation: 'Ps',
  closepunctuation: 'Pe',
  initialpunctuation: 'Pi',
  finalpunctuation: 'Pf',
  otherpunctuation: 'Po',
  mathsymbol: 'Sm',
  currencysymbol: 'Sc',
  modifiersymbol: 'Sk',
  othersymbol: 'So',
  spaceseparator: 'Zs',
  lineseparator: 'Zl',
  paragraphseparator: 'Zp',
  control: 'Cc',
  cntrl: 'Cc',
  format: 'Cf',
  surrogate: 'Cs',
  privateuse: 'Co',
  unassigned: 'Cn',
};
const LEAF_NAMES = new Set(Object.values(LONG_LEAF));

const propertyCache = new Map<string, Ranges>();

/** Ranges of `\p{name}` (Rust's loose name matching), or undefined when we do not model it. */
function property(name: string): Ranges | undefined {
  const key = name.toLowerCase().replace(/[\s_-]/g, '');
  let r = propertyCache.get(key);
  if (r) return r;
  if (key === 'whitespace' || key === 'wspace' || key === 'space') r = fromList(WHITE_SPACE);
  else if (GC[key]) r = categoryRanges(GC[key]!);
  else if (LONG_LEAF[key]) r = categoryRanges([LONG_LEAF[key]!]);
  else {
    const leaf = [...LEAF_NAMES].find((l) => l.toLowerCase() === key);
    if (leaf) r = categoryRanges([leaf]);
  }
  if (r) propertyCache.set(key, r);
  return r;
}

function fromList(cps: readonly number[]): Ranges {
  return union(cps.map((c) => [c, c]));
}

function union(ranges: Ranges): Ranges {
  const sorted = ranges.map((r) => [r[0], r[1]] as [number, number]).sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

export function negate(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of union(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** ASCII letters and their Unicode simple case folds (K: KELVIN SIGN, s: LONG S), as Rust's (?i) has them. */
function caseFold(ranges: Ranges): Ranges {
  const extra: Ranges = [];
  for (const [lo, hi] of ranges) {
    if (hi > 0x7f) throw new UnsupportedPattern('(?i:...) over non-ASCII characters');
    for (let c = lo; c <= hi; c++) {
      const ch = String.fromCharCode(c);
      const other = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
      if (other !== ch) extra.push([other.charCodeAt(0), other.charCodeAt(0)]);
      if (ch === 'k' || ch === 'K') extra.push([0x212a, 0x212a]);
      if (ch === 's' || ch === 'S') extra.push([0x17f, 0x17f]);
    }
  }
  return union([...ranges, ...extra]);
}

/** Parses a tiktoken / tokenizer.json pre-tokenizer pattern; throws UnsupportedPattern. */
export function parsePattern(src: string): Node {
  const p = new Parser(src);
  const node = p.alternation(false);
  if (!p.done()) throw new UnsupportedPattern(`unexpected "${src[p.pos]}" at ${p.pos}`);
  return node;
}

class Parser {
  pos = 0;
  private readonly cps: string[];
  constructor(src: string) {
    this.cps = [...src];
  }
  done(): boolean {
    return this.pos >= this.cps.length;
  }
  private peek(): string | undefined {
    return this.cps[this.pos];
  }
  private take(): string {
    const c = this.cps[this.pos++];
    if (c === undefined) throw new UnsupportedPattern('pattern ends early');
    return c;
  }

  alternation(fold: boolean): Node {
    const items = [this.sequence(fold)];
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.sequence(fold));
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private sequence(fold: boolean): Node {
    const items: Node[] = [];
    while (!this.done() && this.peek() !== '|' && this.peek() !== ')') items.push(this.quantified(fold));
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  private quantified(fold: boolean): Node {
    let node = this.atom(fold);
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '?') [min, max] = [0, 1];
      else if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '{') [min, max] = this.counted();
      else return node;
      if (c !== '{') this.pos++;
      const lazy = this.peek() === '?';
      if (lazy) this.pos++;
      if (this.peek() === '+') throw new UnsupportedPattern('possessive quantifiers');
      node = { t: 'rep', node, min, max, lazy };
    }
  }

  private counted(): [number, number] {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.cps.slice(this.pos, this.pos + 24).join(''));
    if (!m) throw new UnsupportedPattern(`bad repetition at ${this.pos}`);
    this.pos += [...m[0]].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    return [min, max];
  }

  private atom(fold: boolean): Node {
    const c = this.take();
    if (c === '(') return this.group(fold);
    if (c === '[') return this.set(this.classBody(), fold);
    if (c === '.') return { t: 'set', ranges: negate([[10, 10]]) };
    if (c === '\\') return this.set(this.escape(false), fold);
    if (c === '^' || c === '$') throw new UnsupportedPattern('anchors');
    if (c === ')' || c === '*' || c === '+' || c === '?' || c === '{') throw new UnsupportedPattern(`unexpected "${c}"`);
    const cp = c.codePointAt(0)!;
    return this.set([[cp, cp]], fold);
  }

  private set(ranges: Ranges, fold: boolean): Node {
    return { t: 'set', ranges: fold ? caseFold(ranges) : ranges };
  }

  private group(fold: boolean): Node {
    let look: boolean | undefined;
    if (this.peek() === '?') {
      this.pos++;
      const kind = this.take();
      if (kind === ':') look = undefined;
      else if (kind === '=' || kind === '!') look = kind === '!';
      else if (kind === 'i' && this.peek() === ':') {
        this.pos++;
        fold = true;
      } else throw new UnsupportedPattern(`group (?${kind}`);
    }
    const inner = this.alternation(fold);
    if (this.take() !== ')') throw new UnsupportedPattern('unclosed group');
    return look === undefined ? inner : { t: 'look', node: inner, neg: look };
  }

  private classBody(): Ranges {
    let neg = false;
    if (this.peek() === '^') {
      neg = true;
      this.pos++;
    }
    const parts: Ranges = [];
    let first = true;
    while (first || this.peek() !== ']') {
      first = false;
      const c = this.take();
      if (c === '[') throw new UnsupportedPattern('nested classes');
      if ((c === '&' || c === '-' || c === '~') && this.peek() === c) throw new UnsupportedPattern('class set operations');
      const item = c === '\\' ? this.escape(true) : [[c.codePointAt(0)!, c.codePointAt(0)!] as [number, number]];
      if (this.peek() === '-' && this.cps[this.pos + 1] !== ']' && item.length === 1 && item[0]![0] === item[0]![1]) {
        this.pos++;
        const d = this.take();
        const hi = d === '\\' ? this.escape(true) : [[d.codePointAt(0)!, d.codePointAt(0)!] as [number, number]];
        if (hi.length !== 1 || hi[0]![0] !== hi[0]![1] || hi[0]![0] < item[0]![0]) throw new UnsupportedPattern('bad class range');
        parts.push([item[0]![0], hi[0]![0]]);
      } else parts.push(...item);
    }
    this.pos++;
    return neg ? negate(parts) : union(parts);
  }

  private escape(inClass: boolean): Ranges {
    const c = this.take();
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7, e: 27 };
    if (simple[c] !== undefined) return [[simple[c]!, simple[c]!]];
    if (c === 's' || c === 'S') return c === 's' ? fromList(WHITE_SPACE) : negate(fromList(WHITE_SPACE));
    if (c === 'd' || c === 'D') return c === 'd' ? property('Nd')! : negate(property('Nd')!);
    if (c === 'p' || c === 'P') {
      let name = this.take();
      if (name === '{') {
        name = '';
        while (this.peek() !== '}') name += this.take();
        this.pos++;
      }
      const r = property(name);
      if (!r) throw new UnsupportedPattern(`\\p{${name}}`);
      return c === 'p' ? r : negate(r);
    }
    if (c === 'x') {
      const m = /^(\{([0-9a-fA-F]+)\}|[0-9a-fA-F]{2})/.exec(this.cps.slice(this.pos, this.pos + 10).join(''));
      if (!m) throw new UnsupportedPattern('bad \\x escape');
      this.pos += m[0].length;
      const cp = parseInt(m[2] ?? m[0], 16);
      return [[cp, cp]];
    }
    // escaped punctuation is literal; letters and digits are classes or assertions we do not model
    if (/[\p{L}\p{N}]/u.test(c) || (c === 'b' && !inClass)) throw new UnsupportedPattern(`\\${c}`);
    const cp = c.codePointAt(0)!;
    return [[cp, cp]];
  }
}
