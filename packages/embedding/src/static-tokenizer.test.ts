import { foldText, StaticTokenizer, wordTokens } from './static-tokenizer.js';

const words = ['the', ',', '.', 'cafe', 'long-term', 'long', 'term', 'art', 'state', 'do', 'not', 'john', 'o', 'brien', 'h1n1'];
const tok = new StaticTokenizer(words);
const id = (w: string) => words.indexOf(w) + 1;

describe('StaticTokenizer', () => {
  test('folds case and accents', () => {
    expect(foldText('Café ÉTÉ')).toBe('cafe ete');
  });

  test('splits words from punctuation, GloVe style', () => {
    expect(wordTokens('The long-term café, (H1N1).')).toEqual(['the', 'long-term', 'cafe', ',', '(', 'h1n1', ')', '.']);
  });

  test('maps known words to ids (row 0 is padding) and drops unknown words', () => {
    expect(tok.encode('The Café zebra.')).toEqual([id('the'), id('cafe'), id('.')]);
    expect(tok.rows).toBe(words.length + 1);
  });

  test('known compounds stay whole; unknown ones fall back to their parts', () => {
    expect(tok.encode('long-term')).toEqual([id('long-term')]);
    expect(tok.encode('state-of-the-art')).toEqual([id('state'), id('the'), id('art')]);
  });

  test("clitics: n't becomes not, 's is dropped, other apostrophes split", () => {
    expect(tok.encode("don't")).toEqual([id('do'), id('not')]);
    expect(tok.encode("John's")).toEqual([id('john')]);
    expect(tok.encode('O’Brien')).toEqual([id('o'), id('brien')]);
  });

  test('truncates to maxTokens known tokens', () => {
    expect(tok.encode('the the zebra the the', 3)).toEqual([id('the'), id('the'), id('the')]);
    expect(tok.encode('long-term state-of-the-art', 2)).toEqual([id('long-term'), id('state')]);
  });

  test('a text without known words encodes to nothing', () => {
    expect(tok.encode('zzz qqq 12345 日本')).toEqual([]);
    expect(tok.encode('')).toEqual([]);
  });
});
