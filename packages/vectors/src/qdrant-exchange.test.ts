/**
 * The Qdrant adapter's requests checked against scripted HTTP exchanges (DESIGN §10: no Qdrant
 * server can run here). fixtures/qdrant-exchange.json is written by hand from the API reference,
 * NOT recorded from a server; its requests and 2xx answers are checked against Qdrant's OpenAPI
 * document below. A local server replays it: it logs every request (method, path, headers with
 * the api-key value withheld, JSON body) and answers the n-th request with the n-th scripted
 * answer of the scenario.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  hash53,
  isPermanent,
  isRetryable,
  onRetry,
  setRetryLog,
  textHash,
  type RetryEvent,
  type ChunkPoint,
  type Hit,
} from '@nextlong/core';
import { openQdrantIndex, type OpenQdrantOptions } from './qdrant-index.js';
import { qdrantSpec, rejectionOf } from '@nextlong/testing';
import { qdrantPointId } from './qdrant-ids.js';

interface Answer {
  status?: number;
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  reset?: boolean;
}
interface Exchange {
  request: { method: string; path: string; body?: unknown };
  response: Answer;
}
interface Fixture {
  apiKey: string;
  collection: string;
  scenarios: Record<string, Exchange[]>;
}
interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  apiKeySent: boolean;
  body?: unknown;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/qdrant-exchange.json', import.meta.url), 'utf8')) as Fixture;
const KEY = fixture.apiKey;
const C = fixture.collection;

/** A local server replaying scenario `name`. */
async function replay(name: string) {
  const exchanges = fixture.scenarios[name];
  if (!exchanges) throw new Error(`no scenario ${name} in the fixture`);
  const recorded: Recorded[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const { 'api-key': key, ...headers } = req.headers;
    recorded.push({
      method: req.method!,
      path: req.url!,
      headers: key === undefined ? headers : { ...headers, 'api-key': '<withheld>' },
      apiKeySent: key === KEY,
      ...(raw ? { body: JSON.parse(raw) } : {}),
    });
    const answer = exchanges[recorded.length - 1]?.response ?? {
      status: 500,
      body: { status: { error: `test: no scripted answer for request #${recorded.length}` } },
    };
    if (answer.reset) {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      const type = answer.text !== undefined ? 'text/plain' : 'application/json';
      res.writeHead(answer.status ?? 200, { 'content-type': type, ...answer.headers });
      res.end(answer.text ?? JSON.stringify(answer.body));
    };
    if (!answer.delayMs) return send();
    const t = setTimeout(() => {
      timers.delete(t);
      send();
    }, answer.delayMs);
    timers.add(t);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    recorded,
    /** What the fixture says the adapter must have sent, up to `n` exchanges. */
    expected: (n = exchanges.length) => exchanges.slice(0, n).map((e) => e.request),
    /** The recorded requests as the fixture writes them. */
    sent: () =>
      recorded.map((r) => (r.body === undefined ? { method: r.method, path: r.path } : { method: r.method, path: r.path, body: r.body })),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
type Replay = Awaited<ReturnType<typeof replay>>;

let srv: Replay | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const fast = { retryBaseMs: 1, retryMaxMs: 5 };
function open(extra: Partial<OpenQdrantOptions> = {}) {
  return openQdrantIndex({ url: srv!.url, apiKey: KEY, collection: C, dim: 4, ...fast, ...extra });
}

function pt(docId: string, chunk: number, vector: number[]): ChunkPoint {
  const text = vector.length && !(docId === 'c' && chunk === 1) ? `text of ${docId}${chunk}` : '';
  return { docId, chunk, text, hash: textHash(text), vector: Float32Array.from(vector) };
}
const points = [
  pt('a', 0, [1, 0, 0, 0]),
  pt('a', 1, [0.5, 0.5, 0.5, 0.5]),
  pt('a', 2, [0, 1, 0, 0]),
  pt('b', 0, [0, 0, 1, 0]),
  pt('b', 1, [0.5, -0.5, 0.5, -0.5]),
  pt('c', 0, [0, 0, 0, 1]),
  pt('c', 1, [1, 1, 0, 0]), // empty text: never uploaded
  pt('d', 0, [0.5, 0.5, 0.5, -0.5]),
];
const key = (docId: string, chunk: number) => hash53(`${docId}\u0000${chunk}`);
const ident = (h: Hit) => `${h.docId}${h.chunk}`;
/** Equal scores by ascending key (computed here from hash53, not by the adapter's helper). */
const byKey = (...names: string[]) => names.sort((x, y) => key(x[0], Number(x[1])) - key(y[0], Number(y[1])));

function expectApiKeyOnEveryRequest(r: Replay): void {
  expect(r.recorded.length).toBeGreaterThan(0);
  for (const req of r.recorded) {
    expect(req.apiKeySent).toBe(true);
    if (req.body !== undefined) expect(req.headers['content-type']).toBe('application/json');
  }
}

test('every scripted request, and every 2xx answer, conforms to Qdrant’s OpenAPI document', () => {
  const problems: string[] = [];
  for (const [name, exchanges] of Object.entries(fixture.scenarios)) {
    for (const [i, { request, response }] of exchanges.entries()) {
      const url = new URL(request.path, 'http://x');
      const m = qdrantSpec.operation(request.method, url.pathname);
      const at = `${name}#${i} ${request.method} ${request.path}`;
      if (!m) {
        problems.push(`${at}: no such operation`);
        continue;
      }
      for (const p of qdrantSpec.checkRequest(m, url.searchParams, request.body)) problems.push(`${at}: ${p}`);
      const status = response.status ?? 200;
      const wrong = status < 300 && response.body !== undefined ? qdrantSpec.checkResponse(m, status, response.body) : undefined;
      if (wrong) problems.push(`${at} answer: ${wrong}`);
    }
  }
  expect(problems).toEqual([]);
});

describe('QdrantVectorIndex against the scripted exchange', () => {
  test('write then read: create, doc_id index before any upload, batches, query batch, texts by id', async () => {
    srv = await replay('write-read');
    const ix = await open({
      create: true,
      hnsw: { m: 32, efConstruct: 200 },
      quantization: 'int8',
      batchSize: 3,
      efSearch: 64,
      cacheTextChars: 20,
    });
    expect(ix.size).toBe(0);
    await ix.upsert(points);
    expect(await ix.count()).toBe(7);
    const [l1, l2] = await ix.search([Float32Array.of(1, 0, 0, 0), Float32Array.of(0, 0, 1, 0)], 3, 'b');
    // Searches bring no texts: the three asked for are fetched by point id in one request (a0 once).
    const texts = await ix.texts([key('a', 0), key('d', 0), key('c', 0), key('a', 0)]);
    await expect(ix.texts([key('b', 1)])).rejects.toThrow(/unknown/);
    await ix.close();

    // Exactly the recorded requests, in order.
    expect(srv.sent()).toEqual(srv.expected());
    expectApiKeyOnEveryRequest(srv);

    // And what they must say, checked here without the fixture.
    const reqs = srv.recorded;
    const at = (method: string, path: string) => reqs.findIndex((r) => r.method === method && r.path === path);
    const create = reqs[at('PUT', `/collections/${C}`)].body;
    expect(create).toEqual({
      vectors: { size: 4, distance: 'Cosine' },
      hnsw_config: { m: 32, ef_construct: 200 },
      quantization_config: { scalar: { type: 'int8', always_ram: true } },
    });
    const index = at('PUT', `/collections/${C}/index?wait=true`);
    expect(reqs[index].body).toEqual({ field_name: 'doc_id', field_schema: 'keyword' });
    const upserts = reqs.filter((r) => r.method === 'PUT' && r.path === `/collections/${C}/points?wait=true`);
    expect(index).toBeGreaterThan(at('PUT', `/collections/${C}`));
    expect(index).toBeLessThan(reqs.indexOf(upserts[0]));
    type Up = { points: { id: string; vector: number[]; payload: Record<string, unknown> }[] };
    expect(upserts.map((u) => (u.body as Up).points.length)).toEqual([3, 3, 1]);
    const uploaded = upserts.flatMap((u) => (u.body as Up).points);
    const kept = points.filter((p) => p.text !== '');
    expect(uploaded.map((p) => p.id)).toEqual(kept.map((p) => qdrantPointId(p.docId, p.chunk)));
    expect(uploaded[0].id).toBe('d9ff083b-9570-5481-9ae2-144ddf2b54f6'); // uuid5 by Python, see the fixture
    expect(uploaded.map((p) => p.payload)).toEqual(kept.map((p) => ({ doc_id: p.docId, chunk: p.chunk, text: p.text, hash: p.hash })));
    expect(uploaded.map((p) => p.vector)).toEqual(kept.map((p) => Array.from(p.vector)));
    const query = reqs[at('POST', `/collections/${C}/points/query/batch`)].body as { searches: Record<string, unknown>[] };
    expect(query.searches).toHaveLength(2);
    for (const s of query.searches) {
      expect(s).toMatchObject({
        filter: { must_not: [{ key: 'doc_id', match: { value: 'b' } }] },
        limit: 3,
        with_payload: ['doc_id', 'chunk', 'hash'],
        params: { hnsw_ef: 64 },
      });
    }

    // Hits re-ranked here: descending score, ties (0.5) by ascending key whatever Qdrant's order.
    expect(l1.map(ident)).toEqual(['a0', ...byKey('a1', 'd0')]);
    expect(l2.map(ident)).toEqual([...byKey('a1', 'd0'), 'c0']);
    expect(l1.map((h) => h.score)).toEqual([1, 0.5, 0.5]);
    for (const h of [...l1, ...l2]) {
      expect(h.key).toBe(key(h.docId, h.chunk));
      expect(h.hash).toBe(textHash(`text of ${h.docId}${h.chunk}`));
    }
    expect(texts).toEqual(['text of a0', 'text of d0', 'text of c0', 'text of a0']);
    const fetched = reqs.filter((r) => r.method === 'POST' && r.path === `/collections/${C}/points`);
    expect(fetched.map((r) => r.body)).toEqual([
      {
        ids: [
          ['a', 0],
          ['d', 0],
          ['c', 0],
        ].map(([d, c]) => qdrantPointId(d as string, c as number)),
        with_payload: ['text'],
        with_vector: false,
      },
    ]);
  });

  test('an existing collection with its doc_id index is only read', async () => {
    srv = await replay('existing');
    const ix = await open({ create: true });
    expect(ix.size).toBe(7);
    expect(srv.sent()).toEqual(srv.expected());
    expect(srv.recorded.some((r) => r.method === 'PUT')).toBe(false);
    expectApiKeyOnEveryRequest(srv);
  });

  test('an existing collection without the doc_id index gets it', async () => {
    srv = await replay('existing-without-index');
    await open({ create: true });
    expect(srv.sent()).toEqual(srv.expected());
  });

  test('a collection created by another worker meanwhile (409) is re-read, then indexed', async () => {
    srv = await replay('create-race');
    const ix = await open({ create: true, hnsw: { m: 32, efConstruct: 200 }, quantization: 'int8' });
    expect(ix.size).toBe(0);
    expect(srv.sent()).toEqual(srv.expected());
  });

  test('a dimension mismatch is a PermanentError naming the collection, expected and found dims', async () => {
    srv = await replay('dim-mismatch');
    const err = await rejectionOf(open({ create: true }));
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toMatch(new RegExp(`collection "${C}".*expected 4 dims, found 768`));
    expect(srv.recorded).toHaveLength(1); // nothing created, nothing uploaded
  });

  test('a missing collection on the read side is a PermanentError', async () => {
    srv = await replay('missing');
    const err = await rejectionOf(open());
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toMatch(/no such collection/);
    expect(srv.recorded).toHaveLength(1);
  });

  test('a 503, a reset connection and a timeout are retried; a retried upsert resends the same batch', async () => {
    srv = await replay('retry');
    const seen: RetryEvent[] = [];
    const lines: string[] = [];
    const off = onRetry((e) => seen.push(e));
    const prevLog = setRetryLog((l) => lines.push(l));
    const ix = await open({ timeoutMs: 400, maxRetries: 3, batchSize: 2 }).finally(() => (off(), setRetryLog(prevLog)));
    // every retry is visible: a log line with attempt and reason, and an event for the metric
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.target === 'qdrant')).toBe(true);
    expect(seen.map((e) => e.reason)).toContain('503');
    expect(lines[0]).toMatch(/^retry qdrant \(503\) attempt 1, next in/);
    expect(lines.join('\n')).not.toContain(KEY);
    expect(ix.size).toBe(7);
    await ix.upsert(points.slice(0, 2));
    expect(srv.sent()).toEqual(srv.expected());
    const [first, second] = srv.recorded.filter((r) => r.method === 'PUT');
    expect(second.body).toEqual(first.body);
    expectApiKeyOnEveryRequest(srv);
  });

  test('after the last try: RetryableError, without the api key', async () => {
    srv = await replay('retries-exhausted');
    const err = await rejectionOf(open({ maxRetries: 2 }));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toMatch(/GET .*\/collections\/nl_exchange failed after 3 tries: HTTP 503: Service internal error/);
    expect(err.message).not.toContain(KEY);
    expect(srv.recorded).toHaveLength(3);
  });

  test('retries stop when the retry budget is spent, whatever maxRetries allows', async () => {
    srv = await replay('retries-exhausted');
    const err = await rejectionOf(open({ maxRetries: 50, retryBaseMs: 40, retryMaxMs: 40, retryBudgetMs: 100 }));
    expect(isRetryable(err)).toBe(true);
    expect(srv.recorded.length).toBeLessThanOrEqual(4);
  });

  test('an abort stops the retries at once with the abort reason', async () => {
    srv = await replay('retries-exhausted');
    const ac = new AbortController();
    const reason = new Error('shard cancelled');
    const p = openQdrantIndex({ url: srv.url, apiKey: KEY, collection: C, dim: 4, maxRetries: 5, retryBaseMs: 5000, signal: ac.signal });
    while (srv.recorded.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(srv.recorded).toHaveLength(1);
  });

  test('a 400 is a PermanentError at once (no retry) with Qdrant’s message', async () => {
    srv = await replay('bad-request');
    const ix = await open({ maxRetries: 4 });
    const err = await rejectionOf(ix.search([Float32Array.of(0.5, 0.5, 0.5, 0.5)], 5, 'x'));
    expect(isPermanent(err)).toBe(true);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/POST .*points\/query\/batch failed: HTTP 400: Bad request: Index required but not found for "doc_id"/);
    expect(err.message).not.toContain(KEY);
    expect(srv.sent()).toEqual(srv.expected());
  });

  test('an error answer that echoes the api key is scrubbed', async () => {
    srv = await replay('forbidden');
    const err = await rejectionOf(open());
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toMatch(/HTTP 403: Invalid api-key: \*\*\*/);
    expect(err.message).not.toContain(KEY);
    expect(String(err.stack)).not.toContain(KEY);
    expect(srv.recorded).toHaveLength(1);
  });
});
