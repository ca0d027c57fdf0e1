import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { planRun } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { cliProcesses, fixturePath, freePort, startRedis, type RedisHandle } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

// Untrusted queue contents and credentials (issue 9, item 6): the built CLI against real
// redis-servers, one of them with a password.
const PASSWORD = 'right-pw-7431';
const WRONG = 'wrong-pw-9265';

describe('fleet trust: injected jobs and bad credentials', () => {
  let redis: RedisHandle;
  let locked: RedisHandle;
  let dir: string;
  const { start, exitWithin, killAll } = cliProcesses();

  beforeAll(async () => {
    [redis, locked] = await Promise.all([startRedis(), startRedis({ password: PASSWORD })]);
    dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-trust-'));
  });
  afterEach(() => {
    killAll();
  });
  afterAll(async () => {
    await Promise.all([redis.stop(), locked.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const lines = (s: string) => s.trim().split('\n').filter(Boolean);
  const coordinatorArgs = (url: string) => ['coordinator', '--redis', url, '--input', fixturePath('docs-a.slice.jsonl'), '--out', path.join(dir, 'never'), '--target-tokens', '8192', '--metrics', 'off'];

  test('a job injected with `out` at a hand-made run.json reading a local secret fails for good and writes nothing', async () => {
    const secret = path.join(dir, 'secret', 'secret.jsonl');
    const evil = path.join(dir, 'evil');
    await openObjectStore(path.dirname(secret)).put('secret.jsonl', JSON.stringify({ id: 's1', text: 'TOP SECRET: the launch code is 0000. '.repeat(40) }) + '\n');
    // a run.json as a real plan would write it, so that nothing but the trust check can stop it
    const plan = await planRun(parseRunConfig({ input: [secret], out: evil, targetTokens: 8192 }), openObjectStore(evil), loadTokenizer('llama3'));
    const worker = start(['worker', '--stage', 'embed', '--redis', redis.url, '--lock-ms', '4000', '--metrics', 'off']);
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue('nextlong-embed', { connection: conn });
    try {
      const data = { runId: plan.runId, stage: 'embed', shard: plan.poolShards[0]!.id, out: evil };
      await q.add('embed', data, { jobId: 'injected-1', attempts: 5 });
      let state = '';
      for (let i = 0; i < 300 && state !== 'failed' && state !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await q.getJobState('injected-1');
      }
      const job = await q.getJob('injected-1');
      if (state !== 'failed') console.log(worker.log());
      expect(state).toBe('failed');
      expect(job!.failedReason).toMatch(new RegExp(`^refused job for run ${plan.runId} \\(out ${evil}\\): no coordinator registered this run in Redis`));
      expect(job!.attemptsMade).toBe(1); // permanent: no retries
      expect(worker.log()).toMatch(/refused job for run/);
      expect(await readdir(evil, { recursive: true })).toEqual(['run.json']);
    } finally {
      await q.close();
      conn.disconnect();
    }
  });

  test('a wrong password ends worker, coordinator and status with one line and exit 2', async () => {
    const wrong = locked.url.replace(PASSWORD, WRONG);
    expect(wrong).toContain(WRONG);
    const runs = [
      start(['worker', '--stage', 'synth', '--redis', wrong, '--metrics', 'off']),
      start(coordinatorArgs(wrong)),
      start(['status', '--redis', wrong, '--run', '0123456789abcdef']),
      // no password at all: NOAUTH
      start(['worker', '--stage', 'embed', '--redis', `redis://127.0.0.1:${locked.port}`, '--metrics', 'off']),
    ];
    const codes = await Promise.all(runs.map((r) => exitWithin(r, 30_000)));
    expect(codes).toEqual([2, 2, 2, 2]);
    for (const [i, r] of runs.entries()) {
      expect(lines(r.log())).toEqual([expect.stringMatching(i === 3 ? /refused authentication \(NOAUTH\)/ : /^nextlong: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused authentication \(WRONGPASS\)/)]);
      expect(r.log()).not.toContain(WRONG);
    }
  });

  test('rediss:// to a plain port and an unreachable Redis end with exit 2 within the connect bound', async () => {
    const env = { NEXTLONG_REDIS_CONNECT_TIMEOUT_MS: '2000' };
    const tls = `rediss://127.0.0.1:${redis.port}`;
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const runs = [
      start(['worker', '--stage', 'embed', '--redis', tls, '--metrics', 'off'], env),
      start(['status', '--redis', tls, '--run', '0123456789abcdef'], env),
      start(coordinatorArgs(tls), env),
      start(['worker', '--stage', 'synth', '--redis', nobody, '--metrics', 'off'], env),
    ];
    const codes = await Promise.all(runs.map((r) => exitWithin(r, 20_000)));
    expect(codes).toEqual([2, 2, 2, 2]);
    for (const r of runs.slice(0, 3)) expect(lines(r.log()).at(-1)).toMatch(/^nextlong: (cannot connect to Redis at rediss:\/\/127\.0\.0\.1:\d+ within 2 s .*TLS|TLS connection to Redis)/);
    const refused = lines(runs[3]!.log());
    expect(refused).toEqual([expect.stringMatching(/^retry redis \(ECONNREFUSED\) attempt 1, .*redis unreachable/), expect.stringMatching(/^nextlong: cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+ within 2 s \(ECONNREFUSED\)$/)]);
  });

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  (hasOpenssl ? test : test.skip)('a certificate the client does not trust ends the worker with one line and exit 2', async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost']);
    expect(made.status).toBe(0);
    // a TLS terminator with a self-signed certificate in front of the plain Redis
    const server = tls.createServer({ key: await readFile(key), cert: await readFile(cert) }, (s) => {
      const up = net.connect(redis.port, '127.0.0.1');
      s.on('error', () => up.destroy());
      up.on('error', () => s.destroy());
      s.pipe(up).pipe(s);
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const w = start(['worker', '--stage', 'embed', '--redis', `rediss://127.0.0.1:${port}`, '--metrics', 'off']);
      expect(await exitWithin(w, 20_000)).toBe(2);
      expect(lines(w.log())).toEqual([expect.stringMatching(/^nextlong: TLS connection to Redis at rediss:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/)]);
    } finally {
      server.close();
    }
  });
});
