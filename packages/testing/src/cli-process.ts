import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.js';

/** The built `nextlong` binary, run as users run it. */
export const CLI_BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');

/** A `nextlong` child process with its stdout and stderr collected. */
export interface CliProc {
  p: ChildProcess;
  log(): string;
  exit: Promise<number | null>;
}

/**
 * Starts `nextlong` processes (metrics linger off) and remembers them, so a test can kill every
 * one it left running; `exitWithin` tells an exit status from a hang.
 */
export function cliProcesses() {
  const procs: ChildProcess[] = [];
  return {
    start(args: string[], extraEnv: Record<string, string> = {}): CliProc {
      const env = { ...process.env, NEXTLONG_METRICS_LINGER_SECONDS: '0', ...extraEnv };
      const p = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      p.stdout!.on('data', (d: Buffer) => (log += d));
      p.stderr!.on('data', (d: Buffer) => (log += d));
      procs.push(p);
      return { p, log: () => log, exit: new Promise((r) => p.once('exit', (code) => r(code))) };
    },
    /** The exit status, or 'hung' (and killed) when the process is still running after `ms`. */
    async exitWithin(proc: CliProc, ms: number): Promise<number | null | 'hung'> {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([proc.exit, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)))]);
      clearTimeout(timer);
      if (code === 'hung') proc.p.kill('SIGKILL');
      return code;
    },
    /** SIGKILLs every process still running. */
    killAll(): void {
      for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    },
  };
}
