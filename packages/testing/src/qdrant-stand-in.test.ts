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
