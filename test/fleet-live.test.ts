import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { cliProcesses, fixturePath, freePort, startRedis, type RedisHandle } from '@nextlong/testing';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { decompress } from 'zstd-napi';

// A live coordinator (issue 9, item 2): the done markers are the truth, whatever BullMQ
// remembers or forgot; no worker and Redis outages are said, not waited out in silence.
const INPUT = fixturePath('docs-a.slice.jsonl');
const RUN_FLAGS = ['--input', INPUT, '--target-tokens', '8192', '--shard-docs', '10', '--seed', '1'];

describe('fleet: a live coordinator', () => {
  let dir: string;
  let reference: Record<string, string>;
  const { start, exitWithin, killAll } = cliProcesses();
  const servers: RedisHandle[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-live-'));
    const out = path.join(dir, 'local');
    await runLocal(parseRunConfig({ input: [INPUT], out, targetTokens: 8192, shardDocs: 10, seed: 1, concurrency: 1 }), { quiet: true });
    reference = await parts(openObjectStore(out));
    expect(Object.keys(reference)).toHaveLength(8);
  });
  afterAll(async () => {
    killAll();
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  async function redisServer(): Promise<RedisHandle> {
    const r = await startRedis();
    servers.push(r);
    return r;
  }
  const worker = (url: string, stage: string) => start(['worker', '--stage', stage, '--redis', url, '--lock-ms', '4000', '--grace-seconds', '1', '--metrics', 'off']);
  const coordinator = (url: string, out: string, env: Record<string, string> = {}, metrics = 'off') => start(['coordinator', '--redis', url, ...RUN_FLAGS, '--out', out, '--metrics', metrics], env);
  async function until(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await cond()) return;
    throw new Error(`timed out waiting for ${what}`);
  }
  async function markers(store: StreamingObjectStore, stage: string): Promise<number> {
    let n = 0;
    for await (const _ of store.list(`done/${stage}/`)) n++;
    return n;
  }
  const metricsText = (port: number) => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');

  test('with no worker it says "waiting for embed workers (0 connected)", counts them, and goes on when they come', async () => {
    const redis = await redisServer();
    const out = path.join(dir, 'fleet-waiting');
    const port = await freePort();
    const c = coordinator(redis.url, out, { NEXTLONG_NO_WORKERS_WARN_SECONDS: '1' }, `127.0.0.1:${port}`);
    await until('the waiting line', 30_000, () => c.log().includes('waiting for embed workers (0 connected)'));
    expect(await metricsText(port)).toMatch(/^nextlong_workers\{stage="embed"\} 0$/m);
    worker(redis.url, 'embed');
    worker(redis.url, 'synth');
    let seen = false;
    const watch = (async () => {
      while (!seen && c.p.exitCode === null) {
        seen = /^nextlong_workers\{stage="embed"\} 1$/m.test(await metricsText(port));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const code = await exitWithin(c, 90_000);
    await watch;
    if (code !== 0) console.log(c.log());
    expect(code).toBe(0);
    expect(seen).toBe(true);
    expect(await parts(openObjectStore(out))).toEqual(reference);
  });

  test('the output folder deleted and the same command run again on the same Redis: completed jobs without markers are enqueued again', async () => {
    const redis = await redisServer();
    const out = path.join(dir, 'fleet-deleted');
    worker(redis.url, 'embed');
    worker(redis.url, 'synth');
    const first = coordinator(redis.url, out);
    expect(await exitWithin(first, 90_000)).toBe(0);
    await rm(out, { recursive: true, force: true });
    const again = coordinator(redis.url, out);
    const code = await exitWithin(again, 60_000);
    if (code !== 0) console.log(again.log());
    expect(code).toBe(0);
    expect(again.log()).toMatch(/^embed: 8 shard\(s\) had a completed job but no done marker \(output deleted or moved\?\): enqueued again$/m);
    expect(await parts(openObjectStore(out))).toEqual(reference);
  });

  test('Redis killed without persistence mid-run and restarted: the coordinator re-enqueues from the done markers', async () => {
    const redis = await redisServer();
    const out = path.join(dir, 'fleet-flushed');
    const store = openObjectStore(out);
    const we = worker(redis.url, 'embed');
    const ws = worker(redis.url, 'synth');
    const c = coordinator(redis.url, out);
    await until('the first embed marker', 60_000, async () => (await markers(store, 'embed')) >= 1);
    await redis.kill(); // its jobs vanish with it: no AOF, no RDB
    await new Promise((r) => setTimeout(r, 1500));
    await redis.restart();
    const code = await exitWithin(c, 90_000);
    if (code !== 0) console.log([c, we, ws].map((p) => p.log()).join('\n----\n'));
    expect(code).toBe(0);
    expect(c.log().match(/^retry redis \(\w+\) attempt \d+, .*redis unreachable at redis:\/\/127\.0\.0\.1:\d+, retrying…$/gm)).toHaveLength(1);
    expect(c.log()).toMatch(/^redis reachable again at redis:\/\/127\.0\.0\.1:\d+ after \d+ s$/m);
    expect(c.log()).toMatch(/pending shard\(s\) had no job in Redis \(Redis lost its data\?\): enqueued again/);
    expect(c.log()).not.toMatch(/^\s+at /m); // no stack traces
    expect(await parts(store)).toEqual(reference);
  });

  test('a shard failed for good is counted while the others finish; a shard held far beyond p99 is reported by the watchdog', async () => {
    const redis = await redisServer();
    const port = await freePort();
    const out = path.join(dir, 'fleet-failed');
    const c = coordinator(redis.url, out, { NEXTLONG_OVERDUE_FLOOR_SECONDS: '1' }, `127.0.0.1:${port}`);
    // a worker of our own takes two jobs: it fails one for good at once and sits on the other
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const thief = new Worker('nextlong-embed', null, { connection: conn, autorun: false, lockDuration: 120_000 });
    const take = async () => {
      let job: Job | undefined;
      await until('an embed job', 60_000, async () => (job = (await thief.getNextJob('thief', { block: false })) as Job | undefined) !== undefined);
      return job!;
    };
    const shardOf = (j: Job) => (j.data as { shard: string }).shard;
    try {
      const [failed, held] = [await take(), await take()];
      await failed.moveToFailed(new UnrecoverableError('injected: no retry fixes this'), 'thief');
      await until('the failure line', 20_000, () => c.log().includes(`embed shard ${shardOf(failed)} failed for good: injected: no retry fixes this`));
      expect(await metricsText(port)).toMatch(/^nextlong_shards\{stage="embed",state="failed"\} 1$/m);
      expect(c.p.exitCode).toBe(null); // the others are still waited for
      worker(redis.url, 'embed');
      const overdue = new RegExp(`^watchdog: shard ${shardOf(held)} in progress for \\d+ s \\(p99 of finished shards [\\d.]+ s\\); its worker may be stuck$`, 'm');
      await until('the watchdog line', 60_000, () => overdue.test(c.log()));
      expect(await metricsText(port)).toMatch(/^nextlong_shards_overdue\{stage="embed"\} 1$/m);
      expect(await markers(openObjectStore(out), 'embed')).toBe(6); // the others were done meanwhile
      await held.moveToFailed(new UnrecoverableError('injected: gave up'), 'thief');
    } finally {
      await thief.close();
      conn.disconnect();
    }
    expect(await exitWithin(c, 60_000)).toBe(1);
    expect(c.log()).toMatch(/^nextlong: 2 embed shard\(s\) failed for good; fix the cause and start the coordinator again to retry them:\n {2}\S+: injected: (no retry fixes this|gave up)\n {2}\S+: injected: (no retry fixes this|gave up)$/m);
    expect(c.log().match(/^watchdog: /gm)).toHaveLength(1); // once per shard
  });

  test('Redis gone for longer than the outage bound: the coordinator gives up with one clear error', async () => {
    const redis = await redisServer();
    const c = coordinator(redis.url, path.join(dir, 'fleet-gone'), { NEXTLONG_REDIS_OUTAGE_SECONDS: '2' });
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue('nextlong-embed', { connection: conn });
    try {
      await until('the embed jobs', 60_000, async () => (await q.getWaitingCount()) > 0);
    } finally {
      await q.close();
      conn.disconnect();
    }
    await redis.kill();
    const code = await exitWithin(c, 30_000);
    expect(code).toBe(1);
    expect(c.log().match(/^retry redis /gm)).toHaveLength(1);
    expect(c.log()).toMatch(/^nextlong: redis at redis:\/\/127\.0\.0\.1:\d+ unreachable for \d+ s \(ECONNREFUSED\); giving up\. Start the same command again when Redis is back/m);
    expect(c.log()).not.toMatch(/^\s+at /m);
  });
});

async function parts(store: StreamingObjectStore): Promise<Record<string, string>> {
  const res: Record<string, string> = {};
  for await (const k of store.list('sequences/')) res[k] = decompress(Buffer.from(await store.get(k))).toString('utf8');
  return res;
}
