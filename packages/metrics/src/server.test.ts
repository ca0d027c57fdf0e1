import { Agent, request } from 'node:http';
import { isConfigError } from '@nextlong/core';
import {
  metrics,
  parseListenAddress,
  registry,
  setQueueCounts,
  setRunInfo,
  setShardCounts,
  startMetricsServer,
  type MetricsServer,
} from './index.js';
import { find, parseExposition } from './test-support.js';

const HOST = '127.0.0.1';

/** Increment/observe/set every NExtLong metric once. */
function touchAll(): void {
  metrics.documentsRead.inc({ stage: 'embed' }, 3);
  metrics.documentsRejected.inc({ stage: 'embed', reason: 'too_short' });
  metrics.chunksEmbedded.inc(64);
  metrics.embedBatchSeconds.observe(0.12);
  metrics.vectorUpsertSeconds.observe(0.004);
  metrics.vectorSearchSeconds.observe(0.002);
  metrics.uploadSeconds.observe(1.5);
  metrics.sequencesWritten.inc(2);
  metrics.sequencesDiscarded.inc({ reason: 'budget' });
  metrics.outputTokens.inc(131072);
  metrics.negativeScore.observe(0.42);
  metrics.negativeScore.observe(-0.3);
  setShardCounts('synth', { pending: 4, active: 2, done: 1 });
  metrics.shardSeconds.observe({ stage: 'synth' }, 12.5);
  metrics.shardRetries.inc({ stage: 'synth' });
  metrics.jobsStalled.inc({ stage: 'embed' });
  setQueueCounts('nextlong-embed', { waiting: 7, active: 1, completed: 3, failed: 0, delayed: 2 });
  setRunInfo('run-2024-01');
}

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  beforeEach(() => registry.resetMetrics());

  it('listens on an ephemeral port and serves every contract name with its labels', async () => {
    touchAll();
    server = await startMetricsServer({ host: HOST, port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://${HOST}:${server.port}`);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const exp = parseExposition(await res.text());

    const one = (name: string, labels: Record<string, string> = {}) => {
      const s = find(exp, name, labels);
      expect({ name, labels, n: s.length }).toEqual({ name, labels, n: 1 });
      return s[0].value;
    };
    expect(one('nextlong_documents_read_total', { stage: 'embed' })).toBe(3);
    expect(one('nextlong_documents_rejected_total', { stage: 'embed', reason: 'too_short' })).toBe(1);
    expect(one('nextlong_chunks_embedded_total')).toBe(64);
    expect(one('nextlong_embed_batch_seconds_count')).toBe(1);
    expect(one('nextlong_embed_batch_seconds_sum')).toBeCloseTo(0.12);
    expect(one('nextlong_embed_batch_seconds_bucket', { le: '0.25' })).toBe(1);
    expect(one('nextlong_embed_batch_seconds_bucket', { le: '0.1' })).toBe(0);
    expect(one('nextlong_vector_upsert_seconds_count')).toBe(1);
    expect(one('nextlong_vector_search_seconds_count')).toBe(1);
    expect(one('nextlong_upload_seconds_count')).toBe(1);
    expect(one('nextlong_sequences_written_total')).toBe(2);
    expect(one('nextlong_sequences_discarded_total', { reason: 'budget' })).toBe(1);
    expect(one('nextlong_output_tokens_total')).toBe(131072);
    expect(one('nextlong_negative_score_count')).toBe(2);
    expect(one('nextlong_negative_score_bucket', { le: '0' })).toBe(1);
    expect(one('nextlong_negative_score_bucket', { le: '0.45' })).toBe(2);
    expect(one('nextlong_shards', { stage: 'synth', state: 'pending' })).toBe(4);
    expect(one('nextlong_shards', { stage: 'synth', state: 'failed' })).toBe(0);
    expect(one('nextlong_shard_seconds_count', { stage: 'synth' })).toBe(1);
    expect(one('nextlong_shard_retries_total', { stage: 'synth' })).toBe(1);
    expect(one('nextlong_jobs_stalled_total', { stage: 'embed' })).toBe(1);
    expect(one('nextlong_queue_jobs', { queue: 'nextlong-embed', state: 'delayed' })).toBe(2);
    expect(one('nextlong_run_info', { run_id: 'run-2024-01' })).toBe(1);
    expect(one('nextlong_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    for (const [name, type] of [
      ['nextlong_documents_read_total', 'counter'],
      ['nextlong_embed_batch_seconds', 'histogram'],
      ['nextlong_negative_score', 'histogram'],
      ['nextlong_shards', 'gauge'],
      ['nextlong_queue_jobs', 'gauge'],
      ['nextlong_run_info', 'gauge'],
    ]) {
      expect(exp.types.get(name)).toBe(type);
    }
  });

  it('ignores the query string and answers HEAD', async () => {
    server = await startMetricsServer({ host: HOST, port: 0 });
    expect((await fetch(`${server.url}/metrics?x=1`)).status).toBe(200);
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('/healthz answers ok', async () => {
    server = await startMetricsServer({ host: HOST, port: 0, ready: () => false });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('ok');
  });

  it('/readyz follows ready(), sync or async, and a throw means not ready', async () => {
    let ready = false;
    let fail = false;
    server = await startMetricsServer({
      host: HOST,
      port: 0,
      ready: async () => {
        if (fail) throw new Error('probe failed');
        return ready;
      },
    });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    ready = false;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = true;
    fail = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
  });

  it('/readyz is 200 when no ready() is given', async () => {
    server = await startMetricsServer({ host: HOST, port: 0 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    server = await startMetricsServer({ host: HOST, port: 0 });
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metricsx`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('close() does not hang on keep-alive or in-flight connections, and is idempotent', async () => {
    server = await startMetricsServer({ host: HOST, port: 0, ready: () => new Promise<boolean>(() => {}) });
    const { port } = server;
    const agent = new Agent({ keepAlive: true });
    try {
      // An idle keep-alive socket...
      const status = await new Promise<number>((resolve, reject) => {
        request({ host: HOST, port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(200);
      // ...and a request that never gets an answer (ready() never settles).
      const hanging = new Promise<string>((resolve) => {
        request({ host: HOST, port, path: '/readyz', agent }, () => resolve('answered'))
          .on('error', (e) => resolve(`error: ${e.message}`))
          .end();
      });
      await new Promise((r) => setTimeout(r, 50));

      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        server.close().then(() => 'closed'),
        new Promise<string>((r) => (timer = setTimeout(() => r('timeout'), 3000))),
      ]);
      clearTimeout(timer);
      expect(result).toBe('closed');
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(await hanging).toMatch(/^error: /);
      await server.close(); // again: no throw
      await expect(fetch(`http://${HOST}:${port}/healthz`)).rejects.toThrow();
    } finally {
      agent.destroy();
      server = undefined;
    }
  });

  it('rejects when the port is taken, and on a bad port', async () => {
    server = await startMetricsServer({ host: HOST, port: 0 });
    await expect(startMetricsServer({ host: HOST, port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const err = await startMetricsServer({ host: HOST, port: 70000 }).catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
  });

  it('binds all interfaces by default and gives a loopback URL', async () => {
    server = await startMetricsServer({ port: 0 });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['0.0.0.0:9464', '0.0.0.0', 9464],
    ['127.0.0.1:9100', '127.0.0.1', 9100],
    ['localhost:0', 'localhost', 0],
    [':9464', '0.0.0.0', 9464],
    ['9464', '0.0.0.0', 9464],
    ['  9464 ', '0.0.0.0', 9464],
    ['[::1]:9464', '::1', 9464],
    ['[::]:80', '::', 80],
    ['metrics.internal:65535', 'metrics.internal', 65535],
  ])('%j -> %s:%d', (addr, host, port) => {
    expect(parseListenAddress(addr)).toEqual({ host, port });
  });

  it('uses the given default host', () => {
    expect(parseListenAddress(':9464', '127.0.0.1')).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['localhost', /no port/],
    ['localhost:', /no port/],
    [':', /no port/],
    ['host:abc', /not a number/],
    ['host:-1', /not a number/],
    ['host:94.64', /not a number/],
    ['65536', /out of range/],
    ['0.0.0.0:99999', /out of range/],
    ['::1:9464', /bracketed/],
    ['[::1]', /followed by ":port"/],
    ['[]:9464', /empty IPv6 host/],
    ['http://host:9464', /no scheme or path/],
    ['host:9464/metrics', /no scheme or path/],
    ['a b:9464', /bad host/],
  ])('rejects %j with a clear ConfigError', (addr, why) => {
    let err: unknown;
    try {
      parseListenAddress(addr);
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toContain(JSON.stringify(addr));
    expect((err as Error).message).toContain('expected "host:port"');
  });
});
