import { hash53 } from '@nextlong/core';
import { ChunkCache } from './qdrant-cache.js';
import { NAMESPACE_URL, NEXTLONG_POINT_NAMESPACE, qdrantChunkKey, qdrantPointId, uuidv5 } from './qdrant-ids.js';

describe('UUIDv5 point ids', () => {
  test('RFC 4122 version 5: known values (computed with Python uuid.uuid5)', () => {
    // uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    // The pinned namespace is uuid.uuid5(uuid.NAMESPACE_URL, 'urn:nextlong:chunk-point').
    expect(uuidv5('urn:nextlong:chunk-point', NAMESPACE_URL)).toBe(NEXTLONG_POINT_NAMESPACE);
    expect(NEXTLONG_POINT_NAMESPACE).toBe('e95376ea-6651-5fb4-9d24-9a863b026a8d');
  });

  test('point id = uuid5(namespace, `${docId}\\u0000${chunk}`), UTF-8 names included; pinned', () => {
    expect(qdrantPointId('doc-1', 0)).toBe('253fea47-d102-5605-91c3-e675c26261dd');
    expect(qdrantPointId('文書', 12)).toBe('7be14149-4c46-5b8d-9f87-6a30e6590c05');
    expect(qdrantPointId('a', 0)).toBe('d9ff083b-9570-5481-9ae2-144ddf2b54f6');
    // Deterministic, version and variant bits set, distinct for neighbours.
    expect(qdrantPointId('doc-1', 0)).toBe(qdrantPointId('doc-1', 0));
    expect(qdrantPointId('doc-1', 0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(
      new Set([qdrantPointId('doc-1', 0), qdrantPointId('doc-1', 1), qdrantPointId('doc-10', 0), qdrantPointId('doc-', 10)]).size,
    ).toBe(4);
    expect(() => uuidv5('x', 'not-a-uuid')).toThrow(/not a UUID/);
  });

  test('hit key = hash53 of the same name: a safe integer', () => {
    expect(qdrantChunkKey('doc-1', 3)).toBe(hash53('doc-1\u00003'));
    expect(Number.isSafeInteger(qdrantChunkKey('doc-1', 3))).toBe(true);
    expect(qdrantChunkKey('doc-1', 3)).not.toBe(qdrantChunkKey('doc-13', 0));
  });
});

describe('ChunkCache', () => {
  test('texts are bounded by total length (least recently used go first); refs by count', () => {
    const c = new ChunkCache({ maxRefs: 3, maxTextChars: 10 });
    c.put(1, { docId: 'a', chunk: 0 }, 'aaaa');
    c.put(2, { docId: 'b', chunk: 0 }, 'bbbb');
    expect(c.text(1)).toBe('aaaa'); // 1 is now the most recent
    c.put(3, { docId: 'c', chunk: 0 }, 'cccc'); // 12 chars > 10: 2 goes
    expect(c.text(2)).toBeUndefined();
    expect(c.ref(2)).toEqual({ docId: 'b', chunk: 0 });
    expect(c.size).toEqual({ refs: 3, texts: 2, textChars: 8 });
    c.put(4, { docId: 'd', chunk: 0 }); // ref only: ref 1 goes (least recent put)
    expect(c.ref(1)).toBeUndefined();
    c.put(5, { docId: 'e', chunk: 0 }, 'x'.repeat(11)); // longer than the bound: not kept
    expect(c.text(5)).toBeUndefined();
    c.put(3, { docId: 'c', chunk: 0 }, 'cc'); // replacing a text frees its length
    expect(c.size.textChars).toBe(6);
    c.clear();
    expect(c.size).toEqual({ refs: 0, texts: 0, textChars: 0 });
  });
});
