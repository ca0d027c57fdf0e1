/**
 * The Qdrant stand-in is strict: each rule below fails a client that breaks it. Requests are
 * sent raw (fetch), as a wrong client would send them.
 */
import { qdrantSpec, startQdrantStandIn, type QdrantStandIn } from './qdrant-stand-in.js';

let q: QdrantStandIn;
afterEach(async () => {
  await q?.close();
});

const UUID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(`${q.url}${path}`, {
    method,
    headers: body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const json = (await res.json()) as { result?: unknown; status: unknown };
  const error = (json.status as { error?: string } | undefined)?.error;
  return { status: res.status, result: json.result as any, error: error ?? '' };
}

const create = (name = 'c', extra: object = {}) =>
  call('PUT', `/collections/${name}`, { vectors: { size: 2, distance: 'Cosine' }, ...extra });
const upsert = (name = 'c', n = 3) =>
  call('PUT', `/collections/${name}/points?wait=true`, {
    points: Array.from({ length: n }, (_, i) => ({ id: UUID(i), vector: [1, i], payload: { doc_id: `d${i}`, chunk: 0, text: `t${i}` } })),
  });
const search = (s: object) =>
  call('POST', '/collections/c/points/query/batch', { searches: [{ query: [1, 0], limit: 2, with_payload: ['doc_id'], ...s }] });

describe('the Qdrant stand-in rejects what the spec does not allow (400, naming the field)', () => {
  beforeEach(async () => {
    q = await startQdrantStandIn();
    expect((await create()).status).toBe(200);
    expect((await upsert()).status).toBe(200);
  });

  test('a well-formed search is answered, only with the payload fields asked for', async () => {
    const r = await search({});
    expect(r.status).toBe(200);
    expect(r.result[0].points).toHaveLength(2);
    expect(Object.keys(r.result[0].points[0].payload)).toEqual(['doc_id']);
  });

  test.each([
    [
      'with_payload as a string',
      { with_payload: 'doc_id' },
      /body\.searches\[0\]\.with_payload: string "doc_id" matches none of: boolean, array, PayloadSelector/,
    ],
    ['a misspelt field', { with_paylod: ['doc_id'] }, /body\.searches\[0\]: unknown field "with_paylod"/],
    ['a zero limit', { limit: 0 }, /body\.searches\[0\]\.limit: 0 is below the minimum 1/],
    ['a fractional limit', { limit: 2.5 }, /body\.searches\[0\]\.limit/],
    ['a float match value', { filter: { must_not: [{ key: 'doc_id', match: { value: 1.5 } }] } }, /must_not/],
    ['an unknown filter clause', { filter: { must_nt: [] } }, /body\.searches\[0\]\.filter: unknown field "must_nt"/],
    ['a non-numeric vector', { query: ['1', 0] }, /body\.searches\[0\]\.query/],
    ['hnsw_ef as a string', { params: { hnsw_ef: '64' } }, /body\.searches\[0\]\.params\.hnsw_ef: expected integer, got string/],
  ])('search with %s', async (_, wrong, message) => {
    const r = await search(wrong);
    expect(r.status).toBe(400);
    expect(r.error).toMatch(message);
  });

  test('point ids must be unsigned integers or UUIDs; vectors the collection size', async () => {
    const bad = await call('PUT', '/collections/c/points', { points: [{ id: 'doc-1#0', vector: [1, 0] }] });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/body\.points\[0\]\.id: string "doc-1#0" matches none of/);
    const neg = await call('PUT', '/collections/c/points', { points: [{ id: -1, vector: [1, 0] }] });
    expect(neg.status).toBe(400);
    const dims = await call('PUT', '/collections/c/points', { points: [{ id: 7, vector: [1, 0, 0] }] });
    expect(dims).toMatchObject({ status: 400, error: 'Wrong input: Vector dimension error: expected dim: 2, got 3' });
  });

  test('create: enums are exact, required fields present', async () => {
    const r = await call('PUT', '/collections/d', { vectors: { size: 2, distance: 'cosine' } });
    expect(r.status).toBe(400);
    expect(r.error).toMatch(
      /body\.vectors.*"cosine" is not one of \["Cosine","Euclid","Dot","Manhattan"\]|body\.vectors: object .* matches none of/,
    );
    const noSize = await call('PUT', '/collections/d', { vectors: { distance: 'Cosine' } });
    expect(noSize.status).toBe(400);
    const dtype = await call('PUT', '/collections/d', { vectors: { size: 2, distance: 'Cosine', datatype: 'float64' } });
    expect(dtype.status).toBe(400);
    expect(
      (await call('PUT', '/collections/d', { vectors: { size: 2, distance: 'Cosine', datatype: 'float16', on_disk: true } })).status,
    ).toBe(200);
  });

  test('query parameters: declared ones only, of their type', async () => {
    expect((await call('PUT', '/collections/c/points?wiat=true', { points: [] })).error).toMatch(
      /query parameter "wiat" is not one of: wait, ordering, timeout/,
    );
    expect((await call('PUT', '/collections/c/points?wait=yes', { points: [] })).error).toMatch(
      /query\.wait: expected boolean, got string/,
    );
    expect((await call('PUT', '/collections/c/points?wait=true', { points: [] })).status).toBe(200);
  });

  test('malformed or missing bodies, bodies where none is taken', async () => {
    const bad = await call('POST', '/collections/c/points/count', undefined, '{"exact": tru');
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/^Json deserialize error/);
    expect((await call('PUT', '/collections/c/points')).error).toMatch(/body: a JSON body is required/);
    expect((await call('DELETE', '/collections/c', { x: 1 })).error).toMatch(/body: this operation takes no body/);
    expect((await call('GET', '/collections/c')).status).toBe(200); // not deleted
    expect((await call('POST', '/collections/c/points/search', { vector: [1, 0], limit: 1 })).status).toBe(404); // not in the subset
  });
});

describe('the Qdrant stand-in answers like the server', () => {
  test('collection names are honoured: separate contents, 404 when missing, 409 when PUT twice, 400 when invalid', async () => {
    q = await startQdrantStandIn();
    await create('a');
    await create('b');
    await upsert('a', 3);
    await upsert('b', 1);
    const count = async (n: string) => (await call('POST', `/collections/${n}/points/count`, { exact: true })).result.count;
    expect([await count('a'), await count('b')]).toEqual([3, 1]);
    expect(await create('a')).toMatchObject({ status: 409, error: 'Wrong input: Collection `a` already exists!' });
    expect(await count('a')).toBe(3); // the second PUT changed nothing
    expect((await call('GET', '/collections/nope')).status).toBe(404);
    expect((await call('POST', '/collections/nope/points/count', {})).status).toBe(404);
    expect((await create('a%3Ab')).status).toBe(400); // "a:b"
    expect((await call('DELETE', '/collections/b')).result).toBe(true);
    expect((await call('GET', '/collections/b')).status).toBe(404);
  });

  test('yellow for the configured polls after each update, then green; small collections have no indexed vectors', async () => {
    q = await startQdrantStandIn({ yellowPolls: 2, indexingThreshold: 5 });
    await create();
    const info = async () => (await call('GET', '/collections/c')).result;
    expect((await info()).status).toBe('green');
    await upsert('c', 3);
    const polls = [await info(), await info(), await info()];
    expect(polls.map((i) => i.status)).toEqual(['yellow', 'yellow', 'green']);
    expect(polls[2]).toMatchObject({ points_count: 3, indexed_vectors_count: 0, optimizer_status: 'ok' }); // below the threshold
    await upsert('c', 6);
    expect((await info()).status).toBe('yellow');
    await info();
    expect(await info()).toMatchObject({ status: 'green', points_count: 6, indexed_vectors_count: 6 });
    for (const r of q.requests.filter((x) => x.method === 'GET'))
      expect(
        qdrantSpec.checkResponse(qdrantSpec.operation('GET', '/collections/c')!, 200, { result: r.result, status: 'ok', time: 0 }),
      ).toBeUndefined();
  });

  test('grey (paused optimizations) until an update such as an empty optimizers_config PATCH', async () => {
    q = await startQdrantStandIn();
    await create();
    q.setGrey('c');
    const info = async () => (await call('GET', '/collections/c')).result;
    expect(await info()).toMatchObject({ status: 'grey', optimizer_status: { error: 'optimizations pending, awaiting update operation' } });
    expect(await info()).toMatchObject({ status: 'grey' });
    expect((await call('PATCH', '/collections/c', { optimizers_config: { indexing_threshold: 'x' } })).status).toBe(400);
    expect((await call('PATCH', '/collections/c', { optimizers_config: {} })).status).toBe(200);
    expect(await info()).toMatchObject({ status: 'green', optimizer_status: 'ok' });
  });
});

describe('the OpenAPI reading', () => {
  test('a `{nullable: true}` alternative admits null only', () => {
    expect(qdrantSpec.checkSchema('PointRequest', { ids: [1], with_payload: null })).toBeUndefined();
    expect(qdrantSpec.checkSchema('PointRequest', { ids: [1], with_payload: 'text' })).toMatch(/with_payload/);
    expect(qdrantSpec.checkSchema('FieldCondition', { key: 'k', match: 5 })).toMatch(/match/);
  });
});

describe('sparse vectors (retriever bm25) and scroll', () => {
  beforeEach(async () => {
    q = await startQdrantStandIn();
    expect((await create('s', { sparse_vectors: { bm25: { modifier: 'idf' } } })).status).toBe(200);
    const sparse = [
      { indices: [1, 2], values: [1, 1] },
      { indices: [2, 3], values: [1, 2] },
      { indices: [3], values: [1] },
    ];
    const points = sparse.map((bm25, i) => ({ id: UUID(i), vector: { '': [1, i], bm25 }, payload: { doc_id: `d${i}` } }));
    expect((await call('PUT', '/collections/s/points?wait=true', { points })).status).toBe(200);
  });

  const query = (s: object) => call('POST', '/collections/s/points/query/batch', { searches: [{ using: 'bm25', limit: 5, ...s }] });

  test('idf at query time: ln(1 + (N − n + 0.5)/(n + 0.5)) times query and point values; no shared term, no hit', async () => {
    const r = await query({ query: { indices: [2, 3], values: [1, 1] } });
    expect(r.status).toBe(200);
    const idf = (n: number) => Math.log(1 + (3 - n + 0.5) / (n + 0.5));
    const scores = Object.fromEntries(r.result[0].points.map((p: { id: string; score: number }) => [p.id, p.score]));
    expect(scores[UUID(1)]).toBeCloseTo(idf(2) + 2 * idf(2), 5);
    expect(scores[UUID(0)]).toBeCloseTo(idf(2), 5);
    expect(scores[UUID(2)]).toBeCloseTo(idf(2), 5);
    expect((await query({ query: { indices: [9], values: [1] } })).result[0].points).toEqual([]);
  });

  test('malformed sparse vectors and unknown names are 400s; has_id filters; info shows the sparse config', async () => {
    expect((await query({ query: { indices: [1, 1], values: [1, 1] } })).status).toBe(400);
    expect((await query({ query: { indices: [1], values: [1, 2] } })).status).toBe(400);
    expect((await query({ query: { indices: [-1], values: [1] } })).status).toBe(400); // spec: uint32
    expect((await query({ using: 'nope', query: { indices: [1], values: [1] } })).status).toBe(400);
    const bad = await call('PUT', '/collections/s/points?wait=true', { points: [{ id: UUID(9), vector: { '': [1, 0], other: { indices: [], values: [] } } }] });
    expect(bad.status).toBe(400);
    const only = await query({ query: { indices: [2], values: [1] }, filter: { must: [{ has_id: [UUID(1)] }] } });
    expect(only.result[0].points.map((p: { id: string }) => p.id)).toEqual([UUID(1)]);
    const info = await call('GET', '/collections/s');
    expect(info.result.config.params.sparse_vectors).toEqual({ bm25: { modifier: 'idf' } });
  });

  test('scroll pages in id order from an offset; with_vector answers every vector by name', async () => {
    const r = await call('POST', '/collections/s/points/scroll', { offset: UUID(1), limit: 1, with_payload: ['doc_id'], with_vector: true });
    expect(r.status).toBe(200);
    expect(r.result.points).toEqual([{ id: UUID(1), payload: { doc_id: 'd1' }, vector: { '': [Math.fround(1 / Math.sqrt(2)), Math.fround(1 / Math.sqrt(2))], bm25: { indices: [2, 3], values: [1, 2] } } }]);
    expect(r.result.next_page_offset).toBe(UUID(2));
    const end = await call('POST', '/collections/s/points/scroll', { offset: 'ffffffff-ffff-4fff-bfff-ffffffffffff', limit: 1 });
    expect(end.result).toEqual({ points: [], next_page_offset: null });
    expect((await call('POST', '/collections/s/points/scroll', { limit: 1, order_by: 'x' })).status).toBe(400);
  });
});
