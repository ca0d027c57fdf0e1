import fc from 'fast-check';
import { codePointLength, sliceCodePoints, utf16Index } from './text.js';

describe('code point helpers', () => {
  test('codePointLength counts surrogate pairs once, lone surrogates once', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('😀a😀')).toBe(3);
    expect(codePointLength('\ud800a\udc00')).toBe(3);
    expect(codePointLength('😀😀', 0, 2)).toBe(1);
    // a range that cuts a pair counts the half it holds
    expect(codePointLength('😀😀', 1, 4)).toBe(2);
  });

  test('utf16Index and sliceCodePoints', () => {
    const s = 'a😀b𠀀c';
    expect(utf16Index(s, 0)).toBe(0);
    expect(utf16Index(s, 2)).toBe(3);
    expect(utf16Index(s, 99)).toBe(s.length);
    expect(sliceCodePoints(s, 1, 4)).toBe('😀b𠀀');
    expect(sliceCodePoints(s, 4, 5)).toBe('c');
  });

  test('agree with Array.from on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.nat(40), fc.nat(40), (s, a, b) => {
        const cps = [...s];
        expect(codePointLength(s)).toBe(cps.length);
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(sliceCodePoints(s, lo, hi)).toBe(cps.slice(lo, hi).join(''));
      }),
      { numRuns: 2000 },
    );
  });
});
