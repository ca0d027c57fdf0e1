import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { fixturePath, repoRoot, startRedis, startS3rver, type RedisHandle, type S3rverHandle } from '@nextlong/testing';
import { decompress } from 'zstd-napi';

// --method on the fleet (built CLI, real redis-server and s3rver): the document pool is read from
// the segments in S3 by each synth worker, and iclm's per-shard paths do not depend on which
// worker runs which shard. The output must equal `nextlong run` byte for byte.
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');

describe('comparison methods on the fleet equal the local run', () => {
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
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
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

  async function parts(store: StreamingObjectStore): Promise<Record<string, string>> {
    const res: Record<string, string> = {};
    for await (const k of store.list('sequences/')) res[k] = decompress(Buffer.from(await store.get(k))).toString('utf8');
    return res;
  }

  test.each(['quest', 'iclm'])(
    '%s: two synth workers, byte-identical to the local run',
    async (method) => {
      const flags = { input: ['s3://corpus/in'], targetTokens: 2048, shardDocs: 20, seed: 1, method };
      await runLocal(parseRunConfig({ ...flags, out: `s3://results/local-${method}`, concurrency: 1 }), { quiet: true });
      const reference = await parts(openObjectStore(`s3://results/local-${method}`));
      expect(Object.keys(reference)).toHaveLength(4);
      const worker = (stage: string) => start(['worker', '--stage', stage, '--redis', redis.url, '--metrics', 'off']);
      const ws = [worker('embed'), worker('synth'), worker('synth')];
      const out = `s3://results/fleet-${method}`;
      const c = start([
        'coordinator',
        '--redis',
        redis.url,
        '--input',
        's3://corpus/in',
        '--target-tokens',
        '2048',
        '--shard-docs',
        '20',
        '--seed',
        '1',
        '--method',
        method,
        '--out',
        out,
        '--metrics',
        'off',
      ]);
      const code = await c.exit;
      if (code !== 0) console.log(c.log(), ws.map((w) => w.log()).join('\n----\n'));
      expect(code).toBe(0);
      expect(await parts(openObjectStore(out))).toEqual(reference);
      const manifest = JSON.parse(Buffer.from(await openObjectStore(out).get('manifest.json')).toString('utf8')) as { method: string };
      expect(manifest.method).toBe(method);
      for (const w of ws) w.p.kill('SIGTERM');
      await Promise.all(ws.map((w) => new Promise((r) => (w.p.exitCode === null ? w.p.once('exit', r) : r(null)))));
    },
    300_000,
  );
});
