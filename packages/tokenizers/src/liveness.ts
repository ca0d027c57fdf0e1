import { bisect } from './bisect.js';
import { UnsupportedPattern, type Node } from './pattern.js';
import type { Ranges } from './unicode-16.js';

/** Repetitions are unrolled; a pattern with larger counts is not analysed (no splicing). */
const MAX_UNROLL = 16;

type State = { kind: 'char'; ranges: Ranges; out: number } | { kind: 'split'; outs: number[] } | { kind: 'end' };

/**
 * Which regex match attempts on a text could read past its end. A pre-token of a piece
 * alone is also a pre-token of `piece + anything` when the attempt that found it never looked
 * at the character after the piece: then the attempt runs identically in the longer text.
 *
 * Sound over-approximation: every path of the pattern's NFA (priorities ignored, both sides
 * of a lookahead followed) is a superset of what a backtracking engine can try, and a path
 * reaches the end only by reading every character on the way. So an attempt at q is safe
 * when no NFA path from q survives the characters from q to the end.
 */
export class Liveness {
  private readonly states: State[] = [];
  /** Char-state indices reachable without reading, from the start and from each char-state's exit. */
  private readonly startClosure: number[];
  private readonly exitClosure = new Map<number, number[]>();
  private readonly charStates: number[] = [];

  constructor(pattern: Node) {
    const end = this.add({ kind: 'end' });
    const start = this.build(pattern, end);
    for (let i = 0; i < this.states.length; i++) {
      const s = this.states[i]!;
      if (s.kind === 'char') {
        this.charStates.push(i);
        this.exitClosure.set(i, this.closure(s.out));
      }
    }
    this.startClosure = this.closure(start);
  }

  /**
   * The index of the first of `starts` (sorted match starts, UTF-16 offsets into `text`) whose
   * attempt may read past the end of `text`; `starts.length` when none may.
   */
  firstUnsafe(text: string, starts: ArrayLike<number>): number {
    const n = this.states.length;
    // alive[s]: a path in char-state s about to read position i survives to the end
    let alive = new Uint8Array(n).fill(1);
    let first = starts.length;
    let k = starts.length - 1;
    let i = text.length;
    for (;;) {
      while (k >= 0 && starts[k]! > i) k--;
      if (k >= 0 && starts[k] === i && this.startClosure.some((s) => alive[s])) first = k;
      if (i === 0) return first;
      const lo = text.charCodeAt(i - 1);
      const pair = lo >= 0xdc00 && lo <= 0xdfff && i >= 2 && isHigh(text.charCodeAt(i - 2));
      i -= pair ? 2 : 1;
      const cp = text.codePointAt(i)!;
      const prev = new Uint8Array(n);
      let any = false;
      for (const s of this.charStates) {
        const st = this.states[s] as { ranges: Ranges };
        if (contains(st.ranges, cp) && this.exitClosure.get(s)!.some((t) => alive[t])) {
          prev[s] = 1;
          any = true;
        }
      }
      // nothing before position i can live to the end: every earlier attempt is safe
      if (!any) return first;
      alive = prev;
    }
  }

  private add(s: State): number {
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Thompson construction, right to left: the entry state of `node` followed by `next`. */
  private build(node: Node, next: number): number {
    switch (node.t) {
      case 'set':
        return this.add({ kind: 'char', ranges: node.ranges, out: next });
      case 'seq':
        return node.items.reduceRight((acc, item) => this.build(item, acc), next);
      case 'alt':
        return this.add({ kind: 'split', outs: node.items.map((item) => this.build(item, next)) });
      case 'look': {
        // the lookahead reads from here (its own thread, ending nowhere) and the match goes on
        const end = this.add({ kind: 'end' });
        return this.add({ kind: 'split', outs: [next, this.build(node.node, end)] });
      }
      case 'rep': {
        if (node.min > MAX_UNROLL || (node.max !== Infinity && node.max - node.min > MAX_UNROLL)) {
          throw new UnsupportedPattern(`repetition {${node.min},${node.max}} too large to analyse`);
        }
        let tail: number;
        if (node.max === Infinity) {
          const loop = this.add({ kind: 'split', outs: [] });
          (this.states[loop] as { outs: number[] }).outs.push(this.build(node.node, loop), next);
          tail = loop;
        } else {
          tail = next;
          for (let i = node.min; i < node.max; i++) tail = this.add({ kind: 'split', outs: [this.build(node.node, tail), next] });
        }
        for (let i = 0; i < node.min; i++) tail = this.build(node.node, tail);
        return tail;
      }
    }
  }

  private closure(from: number): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    const stack = [from];
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      const st = this.states[s]!;
      if (st.kind === 'char') out.push(s);
      else if (st.kind === 'split') stack.push(...st.outs);
    }
    return out;
  }
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function contains(ranges: Ranges, cp: number): boolean {
  return bisect(ranges.length, (i) => (cp < ranges[i]![0] ? -1 : cp > ranges[i]![1] ? 1 : 0)) >= 0;
}
