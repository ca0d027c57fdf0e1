import { isPermanent, type SequenceRecord } from '@nextlong/core';
import { loadTokenizer, rawTokenizer } from '@nextlong/tokenizers';
import { verifySequenceTokens } from './synth.js';

const raw = rawTokenizer(loadTokenizer('cl100k'));
const text = 'A meta-chunk ends here.\n\nA negative follows, then 😀 and 中文.';
const ids = raw.encode(text);
const record: SequenceRecord = {
  id: 'd1',
  text,
  num_tokens: ids.length,
  tokenizer: 'cl100k',
  meta_doc_id: 'd1',
  placement: 'head',
  segments: [],
};

describe('verifyTokens (--verify-tokens)', () => {
  test('the raw encoding of the text passes', () => {
    expect(() => verifySequenceTokens(raw, record, ids, 'part-0')).not.toThrow();
  });

  test('a different id fails the shard for good, naming the sequence, the shard and the token', () => {
    const bad = ids.slice();
    bad[3] = bad[3]! + 1;
    let err: unknown;
    try {
      verifySequenceTokens(raw, record, bad, 'part-0');
    } catch (e) {
      err = e;
    }
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/^verify-tokens: sequence "d1" of shard part-0: .*first difference at token 3/);
  });

  test('one id short, or a num_tokens that disagrees, fails', () => {
    expect(() => verifySequenceTokens(raw, record, ids.slice(0, -1), 'p')).toThrow(/has num_tokens \d+ and \d+ ids/);
    expect(() => verifySequenceTokens(raw, { ...record, num_tokens: ids.length + 1 }, ids, 'p')).toThrow(/verify-tokens/);
  });
});
