import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '@nextlong/core';
import { fixturePath, repoRoot, startRedis, type RedisHandle } from '@nextlong/testing';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * CPU-heavy steps must not starve BullMQ's lock renewal (issue 9, item 3). The index job of a
 * pool of 12 000 chunks in one segment, with a wide HNSW insert beam, takes several 1 s lock
 * periods; built on the worker's event loop, the lock lapses, an idle worker takes the job as
 * stalled and runs it a second time while the first build is still writing.
 */
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
const POOL_DOCS = 12_000;

/** A deterministic pool of short documents of fixture words: one chunk each. */
async function writePool(file: string): Promise<void> {
  const words = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => (JSON.parse(l) as { text: string }).text.split(/\s+/))
    .filter(Boolean);
  const rng = new Rng(7);
  const lines: string[] = [];
  for (let i = 0; i < POOL_DOCS; i++) {
    const text = Array.from({ length: 20 + rng.int(40) }, () => words[rng.int(words.length)]).join(' ');
    lines.push(JSON.stringify({ id: `d${i}`, text }));
  }
  await writeFile(file, lines.join('\n') + '\n');
}

describe('fleet: a long index build keeps its BullMQ lock', () => {
  let redis: RedisHandle;
  let dir: string;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    [redis, dir] = await Promise.all([startRedis(), mkdtemp(path.join(os.tmpdir(), 'nextlong-index-lock-'))]);
    await writePool(path.join(dir, 'pool.jsonl'));
  });
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (args: string[]) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout!.on('data', (d: Buffer) => (log += d));
    p.stderr!.on('data', (d: Buffer) => (log += d));
    procs.push(p);
    return { p, log: () => log, exit: new Promise<number | null>((r) => p.once('exit', (code) => r(code))) };
  };

  test('index job on a pool that takes several lock periods: 0 stalled jobs, the job runs once', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const events = new QueueEvents('nextlong-embed', { connection: conn });
    const stalled: string[] = [];
    const activations: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    events.on('active', ({ jobId }) => activations.push(jobId));
    await events.waitUntilReady();
    try {
      // Two embed workers with a 1 s lock: the idle one runs the stalled-job check on time while
      // the other builds. The synth worker keeps the default lock: this test is about the index.
      const worker = (stage: string, ...flags: string[]) =>
        start(['worker', '--stage', stage, '--redis', redis.url, ...flags, '--metrics', 'off']);
      const ws = [worker('embed', '--lock-ms', '1000'), worker('embed', '--lock-ms', '1000'), worker('synth')];
      const c = start([
        'coordinator',
        '--redis', redis.url,
        '--input', path.join(dir, 'pool.jsonl'),
        '--out', path.join(dir, 'out'),
        '--shard-docs', String(POOL_DOCS), // one segment: one long insert
        '--hnsw-expansion-add', '1000',
        '--target-tokens', '512',
        '--sequences', '1',
        '--metrics', 'off',
      ]); // prettier-ignore
      const code = await Promise.race([c.exit, new Promise((r) => setTimeout(() => r('timeout'), 100_000).unref())]);
      const logs = ws.map((w) => w.log()).join('\n----\n');
      if (code !== 0) console.log(c.log(), logs);
      expect(code).toBe(0);
      const desc = JSON.parse(await readFile(path.join(dir, 'out', 'index', 'index.json'), 'utf8')) as { chunks: number };
      expect(desc.chunks).toBe(POOL_DOCS);
      // behaviour, not timing: no lock lapsed, and the index job was taken exactly once
      expect(logs).not.toMatch(/stalled/);
      expect(stalled).toEqual([]);
      expect(activations.filter((id) => id.endsWith('-index-index'))).toHaveLength(1);
      expect(logs.match(/index shard index done/g)).toHaveLength(1);
      for (const w of ws) w.p.kill('SIGTERM');
      expect(await Promise.all(ws.map((w) => w.exit))).toEqual([0, 0, 0]);
    } finally {
      await events.close();
      conn.disconnect();
    }
  });
});
