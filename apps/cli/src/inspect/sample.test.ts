import type { ReadRecord } from './records.js';
import { negativesPerMeta } from './sample.js';
import { parseSequences } from '../inspect-command.js';

const seg = (type: 'meta' | 'negative', chunk = 0) => ({ type, doc_id: type === 'meta' ? 'M' : 'n', chunk, start: 0, end: 0 });
const rec = (placement: string, types: string): ReadRecord =>
  ({
    id: 'M',
    text: '',
    num_tokens: 0,
    tokenizer: 'llama3',
    meta_doc_id: 'M',
    placement,
    segments: [...types].map((t) => seg(t === 'm' ? 'meta' : 'negative')),
  }) as ReadRecord;

describe('negatives per meta-chunk', () => {
  test('head: the negatives after each meta-chunk, empty groups included', () => {
    expect(negativesPerMeta(rec('head', 'mnnmmnnnn'))).toEqual([2, 0, 4]);
    expect(negativesPerMeta(rec('head', 'm'))).toEqual([0]);
  });
  test('tail: the negatives before each meta-chunk', () => {
    expect(negativesPerMeta(rec('tail', 'nnmmnm'))).toEqual([2, 0, 1]);
  });
  test('random: groups cannot be told apart, nothing is counted', () => {
    expect(negativesPerMeta(rec('random', 'nmnnm'))).toEqual([]);
  });
});

describe('--sequences', () => {
  test('digits are a count (default 50), anything else a list of ids', () => {
    expect(parseSequences(undefined, 3)).toEqual({ count: 50, seed: 3 });
    expect(parseSequences('7', 0)).toEqual({ count: 7, seed: 0 });
    expect(parseSequences('doc-1, doc-2,', 0)).toEqual({ ids: ['doc-1', 'doc-2'] });
    expect(() => parseSequences(' , ', 0)).toThrow(/--sequences/);
  });
});
