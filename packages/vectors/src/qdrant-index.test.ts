import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isConfigError } from '@nextlong/core';
import { openQdrantIndex } from './qdrant-index.js';
import { describeVectorContract } from './vector-contract.js';
import { rejectionOf, startQdrantSimulator as simulator } from '@nextlong/testing';


describeVectorContract('qdrant adapter ↔ in-process REST simulator', async (points, dim) => {
  const sim = await simulator();
  const writer = await openQdrantIndex({ url: sim.url, collection: 'contract', dim, create: true, batchSize: 50 });
  await writer.upsert(points);
  await writer.close();
  // A cache too small for one result list: texts() must fetch evicted texts by point id.
  const searcher = await openQdrantIndex({ url: sim.url, collection: 'contract', dim, cacheTextChars: 200 });
  return {
    searcher,
    close: async () => {
      await searcher.close();
      await sim.close();
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
