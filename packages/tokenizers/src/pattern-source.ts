import { negate, type Node } from './pattern.js';
import type { Ranges } from './unicode-16.js';

/** JavaScript RegExp source (no `u` flag, for well-formed text) with the same matches as the tree under Rust semantics. */
export function toJsSource(node: Node): string {
  switch (node.t) {
    case 'set':
      return setSource(node.ranges);
    case 'seq':
      return node.items.map((n) => (n.t === 'alt' ? `(?:${toJsSource(n)})` : toJsSource(n))).join('');
    case 'alt':
      return node.items.map(toJsSource).join('|');
    case 'rep': {
      const q = node.max === Infinity ? `{${node.min},}` : `{${node.min},${node.max}}`;
      return `(?:${toJsSource(node.node)})${q}${node.lazy ? '?' : ''}`;
    }
    case 'look':
      return `(?${node.neg ? '!' : '='}${toJsSource(node.node)})`;
  }
}

/**
 * A class in UTF-16 code units (the RegExp runs without the `u` flag on well-formed text):
 * [BMP ranges] or, per run of lead surrogates with the same trail ranges, lead + [trails].
 * V8 runs a `u` class with astral ranges several times slower, on BMP text too.
 */
function setSource(ranges: Ranges): string {
  const bmp: Ranges = [];
  const trails = new Map<number, Ranges>();
  for (const [lo, hi] of ranges) {
    if (lo <= 0xffff) bmp.push([lo, Math.min(hi, 0xffff)]);
    for (let cp = Math.max(lo, 0x10000); cp <= hi;) {
      const lead = 0xd800 + ((cp - 0x10000) >> 10);
      const last = Math.min(hi, 0x10000 + ((lead - 0xd800 + 1) << 10) - 1);
      const list = trails.get(lead) ?? [];
      list.push([0xdc00 + ((cp - 0x10000) & 0x3ff), 0xdc00 + ((last - 0x10000) & 0x3ff)]);
      trails.set(lead, list);
      cp = last + 1;
    }
  }
  const alts: string[] = [];
  // surrogates themselves never occur in well-formed text: leave them out of the BMP class
  const bmpClass = negateWithin(bmp, [[0xd800, 0xdfff]]);
  if (bmpClass.length) alts.push(cls(bmpClass));
  const leads = [...trails.keys()].sort((a, b) => a - b);
  for (let i = 0; i < leads.length;) {
    const key = JSON.stringify(trails.get(leads[i]!));
    let j = i;
    while (j + 1 < leads.length && leads[j + 1] === leads[j]! + 1 && JSON.stringify(trails.get(leads[j + 1]!)) === key) j++;
    alts.push(`${cls([[leads[i]!, leads[j]!]])}${cls(trails.get(leads[i]!)!)}`);
    i = j + 1;
  }
  if (!alts.length) return '[]';
  return alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`;
}

/** `ranges` without the code points of `remove`. */
function negateWithin(ranges: Ranges, remove: Ranges): Ranges {
  const keep = negate(remove);
  const out: Ranges = [];
  for (const [lo, hi] of ranges)
    for (const [klo, khi] of keep) {
      const a = Math.max(lo, klo);
      const b = Math.min(hi, khi);
      if (a <= b) out.push([a, b]);
    }
  return out;
}

function cls(rs: Ranges): string {
  return `[${rs.map(([lo, hi]) => (lo === hi ? esc(lo) : `${esc(lo)}-${esc(hi)}`)).join('')}]`;
}

function esc(cp: number): string {
  return `\\u${cp.toString(16).padStart(4, '0')}`;
}
