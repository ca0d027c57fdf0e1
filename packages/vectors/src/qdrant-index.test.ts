import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isConfigError } from '@nextlong/core';
import { openQdrantIndex } from './qdrant-index.js';
import { waitUntilIndexed } from './qdrant-indexing-wait.js';
import { describeVectorContract } from './vector-contract.js';
import { rejectionOf, startQdrantStandIn } from '@nextlong/testing';

// The strict stand-in derived from Qdrant's OpenAPI document (every request validated against
// it); the collection reports yellow for a few polls after the last upsert, so opening the
// searcher exercises the wait for indexing.
describeVectorContract('qdrant adapter ↔ strict spec-derived stand-in', async (points, dim) => {
  const standIn = await startQdrantStandIn({ yellowPolls: 3 });
  const writer = await openQdrantIndex({ url: standIn.url, collection: 'contract', dim, create: true, batchSize: 50 });
  await writer.upsert(points);
  await writer.close();
  // A cache too small for one result list: texts() must fetch evicted texts by point id.
  const searcher = await openQdrantIndex({
    url: standIn.url,
    collection: 'contract',
    dim,
    cacheTextChars: 200,
    indexPollMs: 1,
    log: () => {},
  });
  return {
    searcher,
    close: async () => {
      await searcher.close();
      await standIn.close();
      // not one request outside the spec (each would have failed a call above anyway); the one
      // 404 is the writer asking whether the collection exists yet
      expect(standIn.requests.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
        'GET /collections/contract 404',
      ]);
      expect(standIn.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(4); // polled while yellow
    },
  };
});

describe('openQdrantIndex options', () => {
  const base = { url: 'http://127.0.0.1:1', collection: 'c', dim: 8 };
  test.each([
    [{ url: 'not a url' }, /invalid Qdrant URL "not a url"/],
    [{ url: 'ftp://user:secret@host/x' }, /invalid Qdrant URL "ftp:\/\/\*\*\*@host\/x": expected an http/],
    [{ collection: 'a/b' }, /collection: a name of 1-255 characters/],
    [{ dim: 0 }, /dim: a positive integer/],
    [{ batchSize: 2.5 }, /batchSize: a positive integer/],
    [{ maxRetries: -1 }, /maxRetries: an integer ≥ 0/],
    [{ hnsw: { m: 1, efConstruct: 100 } }, /hnsw\.m/],
    [{ quantization: 'int4' as 'int8' }, /quantization: 'int8' or 'none'/],
    [{ datatype: 'uint8' as 'float16' }, /datatype: 'float32' or 'float16'/],
    [{ indexWaitMs: -1 }, /indexWaitMs: an integer ≥ 0/],
  ])('%j is a ConfigError before any request', async (bad, message) => {
    const err = await rejectionOf(openQdrantIndex({ ...base, ...bad }));
    expect(isConfigError(err)).toBe(true);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secret');
  });

  test('an unreachable server is a RetryableError after the retries, naming the socket error', async () => {
    const probe = http.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r)); // nothing listens there now
    const url = `http://127.0.0.1:${port}`;
    const err = await rejectionOf(openQdrantIndex({ ...base, url, maxRetries: 1, retryBaseMs: 1 }));
    expect(err.name).toBe('RetryableError');
    expect(err.message).toBe(`Qdrant GET ${url}/collections/c failed after 2 tries: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

describe('the read side waits until the collection has finished indexing', () => {
  const dim = 4;
  const pts = Array.from({ length: 5 }, (_, i) => ({
    docId: `d${i}`,
    chunk: 0,
    text: `t${i}`,
    hash: i + 1,
    vector: Float32Array.from({ length: dim }, (_, j) => (j === i % dim ? 1 : 0.1)),
  }));
  async function filled(opts: Parameters<typeof startQdrantStandIn>[0]) {
    const standIn = await startQdrantStandIn(opts);
    const w = await openQdrantIndex({ url: standIn.url, collection: 'w', dim, create: true });
    await w.upsert(pts);
    await w.close();
    return standIn;
  }

  test('yellow: polls until green, with progress lines; nothing is searched before', async () => {
    const standIn = await filled({ yellowPolls: 4 });
    const lines: string[] = [];
    try {
      const ix = await openQdrantIndex({ url: standIn.url, collection: 'w', dim, indexPollMs: 1, log: (l) => lines.push(l) });
      expect(ix.size).toBe(5);
      await ix.close();
      const gets = standIn.requests.filter((r) => r.method === 'GET').slice(-5);
      expect(gets.map((r) => (r.result as { status: string }).status)).toEqual(['yellow', 'yellow', 'yellow', 'yellow', 'green']);
      expect(lines[0]).toMatch(
        /^qdrant: waiting for Qdrant .* collection "w" to finish indexing: yellow, 0 of 5 vectors in HNSW segments, 0 s of at most 3600 s$/,
      );
      expect(lines.at(-1)).toMatch(/collection "w" is green after \d+ s \(0 of 5 vectors in HNSW segments\)$/);
    } finally {
      await standIn.close();
    }
  });

  test('green with fewer indexed vectors than points (a small collection) is ready: no wait', async () => {
    const standIn = await filled({ yellowPolls: 0, indexingThreshold: 1000 });
    const lines: string[] = [];
    try {
      await (await openQdrantIndex({ url: standIn.url, collection: 'w', dim, log: (l) => lines.push(l) })).close();
      expect(lines).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  test('grey: the paused optimizations are resumed by an empty optimizers_config update', async () => {
    const standIn = await filled({});
    standIn.setGrey('w');
    const lines: string[] = [];
    try {
      await (await openQdrantIndex({ url: standIn.url, collection: 'w', dim, indexPollMs: 1, log: (l) => lines.push(l) })).close();
      const patch = standIn.requests.filter((r) => r.method === 'PATCH');
      expect(patch).toEqual([{ method: 'PATCH', url: '/collections/w', body: { optimizers_config: {} }, status: 200 }]);
      expect(lines[0]).toMatch(/is grey \(optimizations paused: optimizations pending, awaiting update operation\); resuming them/);
    } finally {
      await standIn.close();
    }
  });

  test('still yellow when the wait is over: a RetryableError saying so', async () => {
    const standIn = await filled({ yellowPolls: 1_000_000 });
    try {
      const err = await rejectionOf(
        openQdrantIndex({ url: standIn.url, collection: 'w', dim, indexWaitMs: 30, indexPollMs: 5, log: () => {} }),
      );
      expect(err.name).toBe('RetryableError');
      expect(err.message).toMatch(
        /collection "w" is still yellow after \d+ s \(0 of 5 vectors in HNSW segments\): indexing has not finished/,
      );
    } finally {
      await standIn.close();
    }
  });

  test('red (an optimizer failed) is a PermanentError with the optimizer’s error', async () => {
    const info = { status: 'red', optimizer_status: { error: 'No space left on device' } } as never;
    const probe = { where: 'Qdrant x collection "r"', info: async () => info, resume: async () => {} };
    const err = await rejectionOf(waitUntilIndexed(probe, info, { indexWaitMs: 1000, indexPollMs: 1, log: () => {} }));
    expect(err.name).toBe('PermanentError');
    expect(err.message).toBe('Qdrant x collection "r" is red: its optimizer failed: No space left on device');
  });
});
