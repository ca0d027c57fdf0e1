import { readFileSync } from 'node:fs';
import { loadTokenizer } from '@nextlong/tokenizers';
import { groupSegments } from '../chunker.js';
import { sliceCodePoints } from '../text.js';
import { fillDocuments, joinDocuments, type DocPart } from './documents.js';

const docs: DocPart[] = readFileSync(new URL('../../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { id: string; text: string })
  .map((d) => ({ docId: d.id, chunks: groupSegments(d.text, 512).map((text, chunk) => ({ chunk, text })) }));
const tok = loadTokenizer('cl100k');

/** A `next` over docs[from..], counting what it handed out. */
function feeder(from: number): { next: () => DocPart | undefined; taken: () => number } {
  let i = from;
  return { next: () => docs[i++], taken: () => i - from };
}

describe('whole-document sequences', () => {
  test('join: chunks of one document by "\\n", documents by the separator, segments slice the text', () => {
    const j = joinDocuments(
      [
        { ...docs[0]!, score: 0.5 },
        { ...docs[1]!, score: 0.25, keyword: 'git' },
      ],
      '\n\n',
    );
    expect(j.text).toBe(j.parts.join(''));
    const texts = (d: DocPart) => d.chunks.map((c) => c.text).join('\n');
    expect(j.text).toBe(texts(docs[0]!) + '\n\n' + texts(docs[1]!));
    for (const s of j.segments) {
      const d = docs.find((x) => x.docId === s.doc_id)!;
      expect(sliceCodePoints(j.text, s.start, s.end)).toBe(d.chunks[s.chunk]!.text);
    }
    // the anchor carries no score or keyword; the other documents do
    expect(j.segments.filter((s) => s.type === 'meta').every((s) => s.score === undefined && s.keyword === undefined)).toBe(true);
    expect(j.segments.filter((s) => s.type === 'document').every((s) => s.score === 0.25 && s.keyword === 'git')).toBe(true);
  });

  test('fill: exactly T tokens, the last document cut, the documents beyond the cut handed back', () => {
    for (const T of [300, 1000, 2500]) {
      const f = feeder(1);
      const o = fillDocuments(docs[0]!, f.next, { method: 'standard', tokenizer: tok, targetTokens: T, separator: '\n\n' });
      if (o.kind !== 'written') throw new Error(`discarded: ${o.reason}`);
      expect(tok.encode(o.record.text).length).toBe(T);
      expect(o.ids.length).toBe(T);
      expect(o.record).toMatchObject({ id: docs[0]!.docId, meta_doc_id: docs[0]!.docId, method: 'standard', num_tokens: T });
      const placedIds = [...new Set(o.record.segments.map((s) => s.doc_id))];
      expect(placedIds).toEqual(docs.slice(0, o.placed).map((d) => d.docId));
      expect(o.unused.map((d) => d.docId)).toEqual(docs.slice(o.placed, f.taken() + 1).map((d) => d.docId));
    }
  });

  test('fill: a pool too small for T is discarded too_short', () => {
    const few = [docs[1]!, docs[2]!];
    const o = fillDocuments(docs[0]!, () => few.shift(), { method: 'knn', tokenizer: tok, targetTokens: 100_000, separator: '\n\n' });
    expect(o).toMatchObject({ kind: 'discarded', reason: 'too_short', placed: 3 });
  });
});
