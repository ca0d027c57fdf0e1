import { loadTokenizer } from '@nextlong/tokenizers';
import { cutToTokens, joinPieces, layout, NoExactCutError, roundScore, type Group, type Piece, type Segment } from './assemble.js';
import { Rng } from './rng.js';
import { codePointLength, sliceCodePoints } from './text.js';

const meta = (chunk: number, text = `m${chunk}`): Piece => ({ type: 'meta', docId: 'M', chunk, text });
const neg = (doc: string, chunk: number, score: number): Piece => ({ type: 'negative', docId: doc, chunk, text: `${doc}${chunk}`, score });

const groups: Group[] = [
  { meta: meta(0), negatives: [neg('a', 0, 0.9), neg('b', 1, 0.8), neg('c', 2, 0.7)] },
  { meta: meta(1), negatives: [neg('d', 0, 0.6), neg('e', 1, 0.5)] },
  { meta: meta(2), negatives: [] },
];
const names = (ps: Piece[]) => ps.map((p) => p.text);

describe('layout (DESIGN §3.4)', () => {
  test('head: [mᵢ, nᵢ₁..nᵢₖ] per group', () => {
    expect(names(layout(groups, 'head', new Rng(0)))).toEqual(['m0', 'a0', 'b1', 'c2', 'm1', 'd0', 'e1', 'm2']);
  });
  test('tail: [nᵢ₁..nᵢₖ, mᵢ] per group', () => {
    expect(names(layout(groups, 'tail', new Rng(0)))).toEqual(['a0', 'b1', 'c2', 'm0', 'd0', 'e1', 'm1', 'm2']);
  });
  test('random: mᵢ at a seeded position inside its group; negatives keep their order', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const out = names(layout(groups, 'random', new Rng(seed)));
      expect(names(layout(groups, 'random', new Rng(seed)))).toEqual(out);
      // group boundaries: pieces of group i stay together, negatives in order
      expect(out.slice(0, 4).filter((t) => t !== 'm0')).toEqual(['a0', 'b1', 'c2']);
      expect(out.slice(0, 4)).toContain('m0');
      expect(out.slice(4, 7).filter((t) => t !== 'm1')).toEqual(['d0', 'e1']);
      expect(out[7]).toBe('m2');
      seen.add(out.join(','));
    }
    expect(seen.size).toBeGreaterThan(4); // positions vary with the seed (4 × 3 possible)
  });
  test('trailing pieces go last', () => {
    const t = [neg('z', 9, 0.1)];
    expect(names(layout(groups, 'tail', new Rng(0), t)).at(-1)).toBe('z9');
    expect(names(layout(groups, 'head', new Rng(0), t)).at(-1)).toBe('z9');
  });
});

describe('joinPieces', () => {
  test('segments are code point spans; the separator lies between them', () => {
    const pieces: Piece[] = [
      { type: 'meta', docId: 'M', chunk: 0, text: 'héllo 😀' },
      { type: 'negative', docId: 'n', chunk: 3, text: '𠀀x', score: 0.123456789 },
      { type: 'meta', docId: 'M', chunk: 1, text: '' },
      { type: 'negative', docId: 'n', chunk: 4, text: 'end', score: -0.5 },
    ];
    const sep = '\n🌍\n';
    const { text, segments } = joinPieces(pieces, sep);
    expect(text).toBe(pieces.map((p) => p.text).join(sep));
    expect(segments[0]).toEqual({ type: 'meta', doc_id: 'M', chunk: 0, start: 0, end: 7 });
    expect(segments[1]).toEqual({ type: 'negative', doc_id: 'n', chunk: 3, start: 10, end: 12, score: 0.123457 });
    expect(segments[2]).toEqual({ type: 'meta', doc_id: 'M', chunk: 1, start: 15, end: 15 });
    expect(segments[3]!.end).toBe(codePointLength(text));
    segments.forEach((s, i) => {
      expect(sliceCodePoints(text, s.start, s.end)).toBe(pieces[i]!.text);
      if (i > 0) expect(sliceCodePoints(text, segments[i - 1]!.end, s.start)).toBe(sep);
    });
    expect('score' in segments[0]!).toBe(false);
  });
  test('no pieces → empty text', () => {
    expect(joinPieces([], '\n\n')).toEqual({ text: '', segments: [] });
  });
  test('roundScore keeps 6 decimals', () => {
    expect(roundScore(0.1234565)).toBeCloseTo(0.123457, 9);
    expect(roundScore(0.81)).toBe(0.81);
  });
});

const TOKENIZERS = ['llama3', 'cl100k', 'o200k'] as const;

function checkCut(name: string, text: string, segments: Segment[], target: number) {
  const tok = loadTokenizer(name);
  const r = cutToTokens(text, segments, tok, target)!;
  expect(r).not.toBeNull();
  expect(r.ids.length).toBe(target);
  expect(text.startsWith(r.text)).toBe(true);
  expect(Array.from(tok.encode(r.text))).toEqual(Array.from(r.ids));
  // the cut is on a code point boundary
  const last = r.text.charCodeAt(r.text.length - 1);
  expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
  return r;
}

describe('cutToTokens', () => {
  const special =
    'Intro <|endoftext|> then <|begin_of_text|><|start_header_id|>user<|end_header_id|> and <|eot_id|> text ' +
    '<|fim_prefix|><|im_start|> more words after the markers, <|endoftext|><|endoftext|> the end.';

  test.each(TOKENIZERS)('%s: special-token strings are plain text and cut exactly', (name) => {
    const tok = loadTokenizer(name);
    const full = tok.encode(special);
    expect(full.length).toBeGreaterThan(40);
    // no special ids: the markers are spelled with ordinary tokens
    expect(tok.decode(full)).toBe(special);
    for (let t = 1; t <= full.length; t++) checkCut(name, special, [], t);
  });

  test.each(TOKENIZERS)('%s: cuts inside CJK and emoji text are exact wherever an exact prefix exists', (name) => {
    const tok = loadTokenizer(name);
    const text = '中文的文本。龘靐齉爩 😀 and 🦙🦙 plus 𠀀𠀁 — café 👩‍👩‍👧 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ありがとう 한국어 end';
    const cps = [...text];
    // tokens of every code point prefix, to know where an exact cut exists
    const counts = new Set<number>();
    for (let i = 0; i <= cps.length; i++) counts.add(tok.count(cps.slice(0, i).join('')));
    const total = tok.count(text);
    let exact = 0;
    let impossible = 0;
    for (let t = 1; t <= total; t++) {
      if (counts.has(t)) {
        checkCut(name, text, [], t);
        exact++;
      } else {
        expect(() => cutToTokens(text, [], tok, t)).toThrow(NoExactCutError);
        impossible++;
      }
    }
    expect(exact).toBeGreaterThan(20);
    if (name !== 'o200k') expect(impossible).toBeGreaterThan(0); // multi-token characters exist
  });

  test.each(TOKENIZERS)('%s: long multilingual text, targets at many offsets', (name) => {
    const tok = loadTokenizer(name);
    const text = Array.from({ length: 300 }, (_, i) => `第${i}段：这是一些中文文本，还有表情😀🎉和 English words ${i}.`).join('\n');
    const total = tok.count(text);
    for (let t = 7; t < total; t += 97) {
      try {
        checkCut(name, text, [], t);
      } catch (err) {
        if (!(err instanceof NoExactCutError)) throw err;
      }
    }
  });

  test('no exact prefix: a NoExactCutError, found at once (not after hundreds of re-encodes)', () => {
    const tok = loadTokenizer('llama3');
    let encodes = 0;
    const counting = {
      ...tok,
      name: tok.name,
      encode: (s: string) => (encodes++, tok.encode(s)),
      count: tok.count.bind(tok),
      decode: tok.decode.bind(tok),
      prefixEnd: tok.prefixEnd.bind(tok),
    };
    const text = '😀'.repeat(100); // 2 tokens each in Llama-3
    expect(tok.count(text)).toBe(200);
    expect(() => cutToTokens(text, [], counting, 51)).toThrow(NoExactCutError);
    expect(encodes).toBeLessThan(6);
    const err = (() => {
      try {
        cutToTokens(text, [], tok, 51);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).toBe('NoExactCutError');
    expect(cutToTokens(text, [], tok, 50)!.text).toBe('😀'.repeat(25));
  });

  test('too short → null; exactly T → unchanged', () => {
    const tok = loadTokenizer('llama3');
    const text = 'a short text';
    const n = tok.count(text);
    expect(cutToTokens(text, [], tok, n + 1)).toBeNull();
    const segs: Segment[] = [{ type: 'meta', doc_id: 'd', chunk: 0, start: 0, end: codePointLength(text) }];
    const r = cutToTokens(text, segs, tok, n)!;
    expect(r.text).toBe(text);
    expect(r.segments).toEqual(segs);
  });

  test('segments after the cut are dropped and the straddling one ends at the cut', () => {
    const tok = loadTokenizer('llama3');
    const pieces: Piece[] = ['alpha beta gamma 😀 delta', 'epsilon zeta eta theta', 'iota kappa lambda'].map((text, i) => ({
      type: i === 0 ? 'meta' : 'negative',
      docId: `d${i}`,
      chunk: 0,
      text,
      ...(i ? { score: 0.5 } : {}),
    }));
    const joined = joinPieces(pieces, '\n\n');
    const t0 = tok.count(`${pieces[0]!.text}\n\nepsilon zeta`);
    const r = checkCut('llama3', joined.text, joined.segments, t0);
    expect(r.text).toBe(`${pieces[0]!.text}\n\nepsilon zeta`);
    expect(r.segments).toHaveLength(2);
    expect(r.segments[0]).toEqual(joined.segments[0]);
    expect(r.segments[1]).toEqual({ ...joined.segments[1]!, end: codePointLength(r.text) });
  });
});
