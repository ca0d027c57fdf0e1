/** Parsing and checking helpers of test/deploy-consistency.test.ts (compose, k8s, Dockerfile, CLI flags). */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configKeys } from '@nextlong/core';
import { repoRoot } from '@nextlong/testing';
import YAML from 'yaml';

export const METRICS_PORT = 9464;
export const APP_BIN = 'apps/cli/bin/nextlong.js';
export const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
export const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// ---------------------------------------------------------------- what the code accepts and reads

/** Option names of a `parseArgs` options object literal in source text (`name: { type: ... }`). */
export function optionNames(objectLiteral: string): string[] {
  return [...objectLiteral.matchAll(/['"]?([a-z][a-z0-9-]*)['"]?\s*:\s*\{\s*type\s*:/g)].map((m) => m[1]!);
}

/** The body of the first `{...}` that follows `anchor` in `src` (balanced braces). */
export function braceBlockAfter(src: string, anchor: string | RegExp): string {
  const at = typeof anchor === 'string' ? src.indexOf(anchor) : src.search(anchor);
  if (at < 0) throw new Error(`anchor not found: ${String(anchor)}`);
  const open = src.indexOf('{', at);
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return src.slice(open, i + 1);
  }
  throw new Error(`unbalanced braces after ${String(anchor)}`);
}

/** Flags per subcommand, derived from the CLI's sources and the config schema. */
export function acceptedFlags(): Record<string, Set<string>> {
  const main = read('apps/cli/src/main.ts');
  const fleet = read('apps/cli/src/fleet-commands.ts');
  const runOptions = main.slice(main.indexOf('const RUN_OPTIONS'), main.indexOf('\n]);', main.indexOf('const RUN_OPTIONS')));
  const runExtras = [...runOptions.matchAll(/\['([a-z-]+)',\s*\{\s*type/g)].map((m) => m[1]!);
  const run = new Set([...configKeys.map(kebab), ...runExtras]);
  const coordinatorExtras = optionNames(braceBlockAfter(main, /parse\(args, \{ \.\.\.RUN_OPTIONS/).replace('...RUN_OPTIONS', ''));
  const status = optionNames(braceBlockAfter(main, /case 'status':[\s\S]*?parse\(rest, /));
  const chunk = optionNames(braceBlockAfter(main, /async function chunk[\s\S]*?parse\(args, /));
  const worker = optionNames(braceBlockAfter(fleet, /export async function workerCommand[\s\S]*?options:/));
  return {
    run,
    coordinator: new Set([...run, ...coordinatorExtras]),
    worker: new Set(worker),
    status: new Set(status),
    chunk: new Set(chunk),
  };
}

/** Source files of the product (tests excluded), concatenated. */
export function productSource(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (name === 'node_modules' || name === 'dist') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(name) && !/\.test\.ts$/.test(name)) files.push(readFileSync(p, 'utf8'));
    }
  };
  for (const root of ['packages', 'apps'])
    for (const pkg of readdirSync(path.join(repoRoot, root)))
      for (const sub of ['src', 'bin']) if (existsSync(path.join(repoRoot, root, pkg, sub))) walk(path.join(repoRoot, root, pkg, sub));
  return files.join('\n');
}

export const SOURCE = productSource();
export const CONFIG_ENV = new Set(configKeys.map((k) => `NEXTLONG_${kebab(k).replace(/-/g, '_').toUpperCase()}`));
/** An environment variable is "read by the code" when it is NEXTLONG_<config key> or named in the sources. */
export const readByCode = (name: string) => CONFIG_ENV.has(name) || new RegExp(`\\b${name}\\b`).test(SOURCE);

// ---------------------------------------------------------------- the deployment files

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string> | string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  deploy?: { replicas?: number };
}
export const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
/** The services that run the NExtLong image (they have a build of this repository). */
export const appServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
export const appImage = appServices[0]?.[1].image ?? '';

export const envNames = (env: ComposeService['environment']): string[] =>
  Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env ?? {});
export const argv = (c: string[] | string | undefined): string[] =>
  Array.isArray(c) ? c.map(String) : (c ?? '').split(/\s+/).filter(Boolean);

/** `--flag value` / `--flag=value` pairs of an argument list (boolean flags have value undefined), and positionals. */
export function parseFlags(args: string[]): { flags: Map<string, string | undefined>; positionals: string[] } {
  const flags = new Map<string, string | undefined>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) flags.set(a.slice(2), args[++i]);
    else flags.set(a.slice(2), undefined);
  }
  return { flags, positionals };
}
export const flagsOf = (args: string[]) => parseFlags(args).flags;

export function parseDuration(s: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(s.trim());
  if (!m || (!m[1] && !m[2])) throw new Error(`cannot read duration ${s}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** A worker's grace period: --grace-seconds, else NEXTLONG_GRACE_SECONDS, else the CLI's default 25. */
export function graceSecondsOf(args: string[], env: Record<string, string> = {}): number {
  return Number(flagsOf(args).get('grace-seconds') ?? env.NEXTLONG_GRACE_SECONDS ?? 25);
}

/** Checks one CLI invocation (subcommand + flags) against what the code accepts; returns problems. */
export function checkInvocation(where: string, args: string[], flags: Record<string, Set<string>>): string[] {
  const [cmd, ...rest] = args;
  if (!cmd || !(cmd in flags)) return [`${where}: "${cmd}" is not a nextlong subcommand`];
  const problems: string[] = [];
  const parsed = parseFlags(rest);
  for (const [flag] of parsed.flags) if (!flags[cmd]!.has(flag)) problems.push(`${where}: nextlong ${cmd} does not accept --${flag}`);
  for (const a of parsed.positionals) problems.push(`${where}: nextlong ${cmd} takes no positional argument (${a})`);
  return problems;
}

/** Runs the built CLI with `args` and a Redis URL it must refuse: an unknown flag would fail first. */
export function cliParses(args: string[]): { code: number | null; stderr: string } {
  const patched = args.map((a, i) => (args[i - 1] === '--redis' ? 'invalid://redis' : a));
  const env = { ...process.env };
  delete env.REDIS_URL;
  const r = spawnSync(process.execPath, [path.join(repoRoot, APP_BIN), ...patched], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

// ---------------------------------------------------------------- kubectl kustomize

export const haveKubectl = (() => {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
})();
if (!haveKubectl) console.warn('[deploy] kubectl not found on PATH: skipping the `kubectl kustomize k8s/` checks.');

/** A rendered object; specs are read loosely (the checks below say what they expect). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

/** k8s/ copied with deploy/ next to it, and its optional components switched on. */
export async function withComponents(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-kustomize-'));
  await cp(path.join(repoRoot, 'k8s'), path.join(dir, 'k8s'), { recursive: true });
  await cp(path.join(repoRoot, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
  const file = path.join(dir, 'k8s', 'kustomization.yaml');
  const text = await readFile(file, 'utf8');
  const enabled = text.replace(/^# components:$/m, 'components:').replace(/^#   - (optional\/\S+)$/gm, '  - $1');
  if (enabled === text) throw new Error('k8s/kustomization.yaml has no commented `components:` block');
  await writeFile(file, enabled);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const podSpecs = (objs: K8sObject[]) =>
  objs
    .filter((o) => o.kind === 'Job' || o.kind === 'Deployment')
    .map((o) => ({ name: `${o.kind}/${o.metadata.name}`, pod: o.spec.template }));

/** Probes, ports, security and grace period of every NExtLong pod; returns problems. */
export function checkPods(objs: K8sObject[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o]));
  for (const { name, pod } of podSpecs(objs)) {
    const spec = pod.spec;
    const bad = (what: string) => problems.push(`${name}: ${what}`);
    if (spec.securityContext?.runAsNonRoot !== true) bad('pod securityContext.runAsNonRoot is not true');
    if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault') bad('pod seccompProfile is not RuntimeDefault');
    if (pod.metadata?.annotations?.['prometheus.io/port'] !== String(METRICS_PORT)) bad('pod prometheus.io/port annotation is not 9464');
    if (pod.metadata?.annotations?.['prometheus.io/scrape'] !== 'true') bad('pod prometheus.io/scrape annotation is not "true"');
    const emptyDirs = new Set((spec.volumes ?? []).filter((v: { emptyDir?: unknown }) => v.emptyDir).map((v: { name: string }) => v.name));
    for (const c of spec.containers) {
      const where = (what: string) => bad(`container ${c.name}: ${what}`);
      const args: string[] = (c.args ?? []).map(String);
      if (c.command !== undefined) where('overrides the image ENTRYPOINT (use args)');
      const metricsPort = (c.ports ?? []).find((p: { name: string }) => p.name === 'metrics');
      if (metricsPort?.containerPort !== METRICS_PORT) where('no port "metrics" on 9464');
      const m = flagsOf(args).get('metrics');
      if (m !== undefined && !m.endsWith(`:${METRICS_PORT}`)) where(`--metrics ${m} is not on ${METRICS_PORT}`);
      for (const [probe, p] of [
        ['livenessProbe', '/healthz'],
        ['readinessProbe', '/readyz'],
      ] as const) {
        const h = c[probe]?.httpGet;
        if (h?.path !== p || (h.port !== 'metrics' && h.port !== METRICS_PORT)) where(`${probe} is not GET ${p} on the metrics port`);
      }
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) where('readOnlyRootFilesystem is not true');
      if (sc.allowPrivilegeEscalation !== false) where('allowPrivilegeEscalation is not false');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) where('capabilities do not drop ALL');
      const tmp = (c.volumeMounts ?? []).find((v: { mountPath: string }) => v.mountPath === '/tmp');
      if (!tmp || !emptyDirs.has(tmp.name)) where('/tmp is not an emptyDir (the root filesystem is read-only)');
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        where('resources (cpu/memory requests, memory limit) are not all set');
      if (args[0] === 'worker') {
        const env: Record<string, string> = Object.fromEntries(
          (c.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]),
        );
        for (const ref of c.envFrom ?? []) Object.assign(env, configMaps.get(ref.configMapRef?.name)?.data ?? {});
        const grace = graceSecondsOf(args, env);
        if (!(spec.terminationGracePeriodSeconds >= grace + 10))
          bad(
            `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} is not the worker grace (${grace} s) + a margin of 10 s or more`,
          );
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- tests
