import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort, repoRoot, startRedis, type RedisHandle } from '@nextlong/testing';

// Several fleet processes on one host with default flags (issue 9): metrics take the next free port.
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
const env = { ...process.env };
delete env.NEXTLONG_METRICS_ADDR;

describe('metrics address on a shared host', () => {
  let redis: RedisHandle;
  const procs: ChildProcess[] = [];
  beforeAll(async () => (redis = await startRedis()));
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await redis.stop();
  });

  function worker(extra: string[] = []) {
    const p = spawn(process.execPath, [BIN, 'worker', '--stage', 'synth', '--redis', redis.url, ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let log = '';
    p.stderr!.on('data', (d: Buffer) => (log += d));
    const exit = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    const url = async () => {
      for (let i = 0; i < 300; i++) {
        const m = /metrics on (http:\/\/\S+)\/metrics/.exec(log);
        if (m) return m[1]!;
        if (p.exitCode !== null) throw new Error(`worker exited ${p.exitCode}: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no metrics line: ${log}`);
    };
    return { p, exit, url, log: () => log };
  }

  test('three workers with default flags each serve metrics on their own port and keep running', async () => {
    const ws = [worker(), worker(), worker()];
    const urls = await Promise.all(ws.map((w) => w.url()));
    expect(new Set(urls).size).toBe(3);
    for (const u of urls) expect((await fetch(`${u}/healthz`)).status).toBe(200);
    for (const w of ws) expect(w.p.exitCode).toBeNull();
    expect(ws.map((w) => w.log()).join('')).toMatch(/all interfaces/);
    for (const w of ws) w.p.kill('SIGTERM');
    expect(await Promise.all(ws.map((w) => w.exit))).toEqual([0, 0, 0]);
  });

  test('an explicit address that is taken is a configuration error: exit 2, one line', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const w = worker(['--metrics', `127.0.0.1:${port}`]);
      expect(await w.exit).toBe(2);
      const lines = w.log().trim().split('\n').filter((l) => l.startsWith('nextlong:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`--metrics 127\\.0\\.0\\.1:${port}: the address is in use`));
    } finally {
      blocker.close();
    }
  });

  test.each(['run', 'chunk', 'status', 'coordinator', 'worker'])('nextlong %s --help exits 0 and lists its own flags', (cmd) => {
    const r = spawnSync(process.execPath, [BIN, cmd, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const own: Record<string, string[]> = {
      run: ['--input', '--out', '--target-tokens'],
      chunk: ['--chunk-chars', '--text-field'],
      status: ['--out', '--redis', '--run'],
      coordinator: ['--redis', '--metrics'],
      worker: ['--stage', '--lock-ms', '--grace-seconds', '--metrics'],
    };
    for (const f of own[cmd]!) expect(r.stdout).toContain(f);
  });
});
