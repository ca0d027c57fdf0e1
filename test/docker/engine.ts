/**
 * The docker CLI as the container test uses it: every call is a real `docker` process against
 * the local engine; containers started here carry a label so that cleanup removes exactly them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export const LABEL = `nextlong-test-docker=${process.pid}`;

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `docker ...args`, resolved when it exits (never rejects on a non-zero status). */
export function docker(args: string[], opts: { log?: string } = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = opts.log ? createWriteStream(opts.log) : undefined;
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (log ? log.write(d) : (stdout += d)));
    p.stderr.on('data', (d: Buffer) => (log ? log.write(d) : (stderr += d)));
    p.once('error', reject);
    p.once('close', (code) => {
      log?.end();
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like `docker`, but throws with docker's own message on a non-zero status. */
export async function dockerOk(args: string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.slice(0, 3).join(' ')} ... exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

/** Why no engine can be used (CLI missing, daemon down), or null when `docker info` answers. */
export function engineUnreachable(): string | null {
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return `docker CLI not runnable: ${r.error.message}`;
  if (r.status !== 0) return (r.stderr || r.stdout).trim().split('\n')[0] ?? `docker info exited ${r.status}`;
  return null;
}

export interface Health {
  Status: string;
  Log: { ExitCode: number; Output: string }[];
}

export interface ContainerState {
  Status: string;
  ExitCode: number;
  OOMKilled: boolean;
  Health?: Health;
}

export async function containerState(name: string): Promise<ContainerState> {
  return JSON.parse(await dockerOk(['inspect', '--format', '{{json .State}}', name])) as ContainerState;
}

export interface RunSpec {
  name: string;
  image: string;
  args: string[];
  env: Record<string, string>;
  health: { cmd: string; interval: string; timeout: string; retries: number; startPeriod: string };
  /** extra `docker run` options (security settings, mounts, memory) */
  options?: string[];
}

/** `docker run -d` on the host network (the engine here has no bridge network). */
export async function runDetached(spec: RunSpec): Promise<void> {
  const env = Object.entries(spec.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const h = spec.health;
  await dockerOk([
    'run',
    '-d',
    '--name',
    spec.name,
    '--label',
    LABEL,
    '--network',
    'host',
    ...env,
    '--health-cmd',
    h.cmd,
    '--health-interval',
    h.interval,
    '--health-timeout',
    h.timeout,
    '--health-retries',
    String(h.retries),
    '--health-start-period',
    h.startPeriod,
    ...(spec.options ?? []),
    spec.image,
    ...spec.args,
  ]);
}

/** Polls until the container's healthcheck says `healthy`; throws with its log otherwise. */
export async function waitHealthy(name: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await containerState(name);
    if (s.Health?.Status === 'healthy') return;
    if (s.Status !== 'running' || Date.now() > until) {
      const logs = await docker(['logs', '--tail', '40', name]);
      throw new Error(`${name} not healthy (${s.Status}, health ${JSON.stringify(s.Health)}):\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Removes every container this process started (by label), running or not. */
export async function removeOurContainers(): Promise<void> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
}
