import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { fixturePath, freePort, repoRoot, startRedis, startS3rver, type RedisHandle, type S3rverHandle } from '@nextlong/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { decompress } from 'zstd-napi';

// The fleet as users run it: real redis-server, s3rver, the built CLI as separate processes.
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
const RUN_FLAGS = ['--input', 's3://corpus/in', '--target-tokens', '8192', '--shard-docs', '10', '--seed', '1'];

describe('fleet: coordinator + embed and synth workers on BullMQ', () => {
  let redis: RedisHandle;
  let s3: S3rverHandle;
  let env: NodeJS.ProcessEnv;
  const procs: ChildProcess[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    [redis, s3] = await Promise.all([startRedis(), startS3rver({ buckets: ['corpus', 'results'] })]);
    env = { ...process.env, ...s3.env };
    Object.assign(process.env, s3.env);
    await openObjectStore('s3://corpus/in').put('docs.jsonl', await readFile(fixturePath('docs-a.slice.jsonl')));
  });
  afterEach(() => {
    for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  });
  afterAll(async () => {
    process.env = saved;
    await Promise.all([redis.stop(), s3.stop()]);
  });

  const start = (args: string[]) => {
    const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout!.on('data', (d: Buffer) => (log += d));
    p.stderr!.on('data', (d: Buffer) => (log += d));
    procs.push(p);
    return { p, log: () => log, exit: new Promise<number | null>((r) => p.once('exit', (code) => r(code))) };
  };
  const worker = (stage: string, metrics = 'off', grace = '5') =>
    start(['worker', '--stage', stage, '--redis', redis.url, '--lock-ms', '4000', '--grace-seconds', grace, '--metrics', metrics]);
  const coordinator = (out: string) => start(['coordinator', '--redis', redis.url, ...RUN_FLAGS, '--out', out, '--metrics', 'off']);

  async function parts(store: StreamingObjectStore): Promise<Record<string, string>> {
    const res: Record<string, string> = {};
    for await (const k of store.list('sequences/')) res[k] = decompress(Buffer.from(await store.get(k))).toString('utf8');
    return res;
  }
  async function waitForMarkers(store: StreamingObjectStore, stage: string, n: number) {
    for (let i = 0; i < 1200; i++) {
      let c = 0;
      for await (const _ of store.list(`done/${stage}/`)) c++;
      if (c >= n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${n} ${stage} markers`);
  }

  let reference: Record<string, string>;
  beforeAll(async () => {
    const out = 's3://results/local';
    const flags = { input: ['s3://corpus/in'], out, targetTokens: 8192, shardDocs: 10, seed: 1, concurrency: 1 };
    await runLocal(parseRunConfig(flags), { quiet: true });
    reference = await parts(openObjectStore(out));
    expect(Object.keys(reference)).toHaveLength(8);
  });

  const asRecordIds = (p: Record<string, string>) =>
    Object.values(p)
      .join('')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);

  test('two embed and two synth workers produce sequences byte-identical to `nextlong run`', async () => {
    const out = 's3://results/fleet1';
    const port = await freePort();
    const ws = [worker('embed'), worker('embed'), worker('synth', `127.0.0.1:${port}`), worker('synth')];
    const c = coordinator(out);
    const code = await Promise.race([c.exit, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
    if (code !== 0) console.log(c.log(), ws.map((w) => w.log()).join('\n----\n'));
    expect(code).toBe(0);
    expect(c.log()).toContain('sequences');
    const got = await parts(openObjectStore(out));
    expect(Object.keys(got)).toEqual(Object.keys(reference).map((k) => k));
    expect(got).toEqual(reference);
    // every fleet process serves its metrics
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^nextlong_documents_read_total\{stage="synth"\} [1-9]/m);
    expect(text).toMatch(/^nextlong_vector_search_seconds_count [1-9]/m);
    expect(text).toContain('nextlong_nodejs_eventloop_lag_seconds');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    // SIGTERM: workers stop taking jobs and exit 0
    for (const w of ws) w.p.kill('SIGTERM');
    expect(await Promise.all(ws.map((w) => w.exit))).toEqual([0, 0, 0, 0]);
  });

  test('kill -9 of a worker in each stage and a coordinator restart: every sequence exactly once', async () => {
    const out = 's3://results/fleet2';
    const store = openObjectStore(out);
    const e1 = worker('embed');
    worker('embed');
    const s1 = worker('synth');
    worker('synth');
    const c1 = coordinator(out);
    await waitForMarkers(store, 'embed', 1);
    e1.p.kill('SIGKILL'); // mid-embed
    worker('embed');
    await waitForMarkers(store, 'synth', 1);
    s1.p.kill('SIGKILL'); // mid-synth
    c1.p.kill('SIGKILL'); // and the coordinator
    worker('synth');
    const c2 = coordinator(out);
    expect(await c2.exit).toBe(0);
    const got = await parts(store);
    expect(got).toEqual(reference);
    const ids = asRecordIds(got);
    expect(new Set(ids).size).toBe(ids.length);
    const manifest = JSON.parse(Buffer.from(await store.get('manifest.json')).toString('utf8')) as { counts: { sequences_written: number } };
    expect(manifest.counts.sequences_written).toBe(ids.length);
  });

  test('SIGTERM mid-shard: the worker hands the shard back within its grace period and exits 0', async () => {
    const out = 's3://results/fleet3';
    worker('embed');
    const a = worker('synth', 'off', '0.2');
    const c = coordinator(out);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue('nextlong-synth', { connection: conn });
    try {
      for (let i = 0; i < 1200 && (await q.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      a.p.kill('SIGTERM');
      expect(await a.exit).toBe(0);
      expect(a.log()).toMatch(/shutting down/);
      expect(a.log()).toMatch(/synth shard \S+ handed back to the queue/);
      worker('synth');
      expect(await c.exit).toBe(0);
      expect(await parts(openObjectStore(out))).toEqual(reference);
    } finally {
      await q.close();
      conn.disconnect();
    }
  });

  test('bad shard data ends in rejects, not endless retries', async () => {
    const bad = openObjectStore('s3://corpus/bad');
    await bad.put('junk.jsonl', Array.from({ length: 20 }, (_, i) => `not json ${i}`).join('\n') + '\n');
    await bad.put('docs.jsonl', await readFile(fixturePath('docs-a.slice.jsonl')));
    worker('embed');
    worker('synth');
    const c = start(['coordinator', '--redis', redis.url, '--input', 's3://corpus/bad', '--out', 's3://results/bad', '--target-tokens', '4096', '--metrics', 'off']);
    expect(await c.exit).toBe(1);
    expect(c.log()).toMatch(/junk-\w+-1: shard junk-\w+-1: 20 of 20 records are bad \(malformed_json 20\)/);
    // failed for good on the first attempt: UnrecoverableError, no retries
    expect(c.log()).not.toMatch(/attempt 2/);
  });
});
