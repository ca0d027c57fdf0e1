import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** kill -9 of the server; its folder (and AOF file, if any) stays for `restart`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and folder (after `kill`, or stops it first). */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  password?: string;
  /** Append-only file on, fsync'd on every write: a kill -9 loses nothing acknowledged. */
  appendonly?: boolean;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts our own `redis-server` (from PATH) on a free port with a temporary folder — never the
 * machine's shared instance on 6379.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--maxmemory-policy',
    'noeviction',
  ];
  if (opts.appendonly) args.push('--appendfsync', 'always');
  if (opts.password) args.push('--requirepass', opts.password);
  let child = await spawnRedis(args);
  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
      child = await spawnRedis(args);
    },
  };
}

async function spawnRedis(args: string[]): Promise<ChildProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.once('error', (e) => reject(new Error(`cannot start redis-server (is it installed?): ${e.message}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}
