import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@nextlong/testing';

// Processes of a chaos trial: the built CLI as child processes, kill -9, bounded waits.

export const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  /** stdout and stderr together, as written. */
  log(): string;
  /** The exit code (null when killed by a signal). */
  exit: Promise<number | null>;
  alive(): boolean;
  /** kill -9, resolved once the process is gone. */
  kill9(): Promise<void>;
}

/** Every process a trial started, so that none outlives it. */
export class Procs {
  readonly all: Proc[] = [];

  start(name: string, args: string[], env: NodeJS.ProcessEnv): Proc {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const add = (d: Buffer) => {
      log += d.toString('utf8');
      if (log.length > 200_000) log = log.slice(-100_000); // a looping error must not eat memory
    };
    child.stdout!.on('data', add);
    child.stderr!.on('data', add);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const proc: Proc = {
      name,
      child,
      log: () => log,
      exit,
      alive,
      async kill9() {
        if (alive()) child.kill('SIGKILL');
        await exit;
      },
    };
    this.all.push(proc);
    return proc;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.kill9()));
  }

  /** The last lines of every process's log, for a failed trial's report. */
  tails(lines = 15): string {
    return this.all
      .map(
        (p) =>
          `--- ${p.name} (pid ${p.child.pid}, ${p.alive() ? 'alive' : `exit ${p.child.exitCode ?? p.child.signalCode}`})\n${p.log().trimEnd().split('\n').slice(-lines).join('\n')}`,
      )
      .join('\n');
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`'s value, or 'timeout' once `ms` have passed. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Math.max(0, ms))));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every `everyMs` until it holds (true) or `until` (epoch ms) passes (false). */
export async function waitFor(cond: () => Promise<boolean> | boolean, until: number, everyMs = 100): Promise<boolean> {
  for (;;) {
    try {
      if (await cond()) return true;
    } catch {
      // a service being restarted: try again
    }
    if (Date.now() > until) return false;
    await sleep(everyMs);
  }
}

/** A small seeded generator (mulberry32): trials print their seed, so choices can be replayed. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

/** CPU time (user + system, in clock ticks) a process has used so far; 0 when it is gone. */
export function cpuTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of proc(5))
  } catch {
    return 0;
  }
}
