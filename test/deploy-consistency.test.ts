/**
 * docker-compose.yml, k8s/, deploy/ and the Dockerfile agree with the code: commands are real CLI
 * subcommands with flags the CLI accepts, environment variables are ones the code reads, metrics
 * are served on 9464 everywhere, one app image, probes and security settings on every pod, and the
 * dashboard only names metrics the code exports. `kubectl kustomize` parts skip without kubectl.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configKeys, parseRunConfig } from '@nextlong/core';
import { registry } from '@nextlong/metrics';
import { repoRoot } from '@nextlong/testing';
import YAML from 'yaml';

const METRICS_PORT = 9464;
const APP_BIN = 'apps/cli/bin/nextlong.js';
const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// ---------------------------------------------------------------- what the code accepts and reads

/** Option names of a `parseArgs` options object literal in source text (`name: { type: ... }`). */
function optionNames(objectLiteral: string): string[] {
  return [...objectLiteral.matchAll(/['"]?([a-z][a-z0-9-]*)['"]?\s*:\s*\{\s*type\s*:/g)].map((m) => m[1]!);
}

/** The body of the first `{...}` that follows `anchor` in `src` (balanced braces). */
function braceBlockAfter(src: string, anchor: string | RegExp): string {
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
function acceptedFlags(): Record<string, Set<string>> {
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
function productSource(): string {
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

const SOURCE = productSource();
const CONFIG_ENV = new Set(configKeys.map((k) => `NEXTLONG_${kebab(k).replace(/-/g, '_').toUpperCase()}`));
/** An environment variable is "read by the code" when it is NEXTLONG_<config key> or named in the sources. */
const readByCode = (name: string) => CONFIG_ENV.has(name) || new RegExp(`\\b${name}\\b`).test(SOURCE);

// ---------------------------------------------------------------- the deployment files

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string> | string[];
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  deploy?: { replicas?: number };
}
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
/** The services that run the NExtLong image (they have a build of this repository). */
const appServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const appImage = appServices[0]?.[1].image ?? '';

const envNames = (env: ComposeService['environment']): string[] =>
  Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env ?? {});
const argv = (c: string[] | string | undefined): string[] => (Array.isArray(c) ? c.map(String) : (c ?? '').split(/\s+/).filter(Boolean));

/** `--flag value` / `--flag=value` pairs of an argument list (boolean flags have value undefined), and positionals. */
function parseFlags(args: string[]): { flags: Map<string, string | undefined>; positionals: string[] } {
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
const flagsOf = (args: string[]) => parseFlags(args).flags;

function parseDuration(s: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(s.trim());
  if (!m || (!m[1] && !m[2])) throw new Error(`cannot read duration ${s}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** A worker's grace period: --grace-seconds, else NEXTLONG_GRACE_SECONDS, else the CLI's default 25. */
function graceSecondsOf(args: string[], env: Record<string, string> = {}): number {
  return Number(flagsOf(args).get('grace-seconds') ?? env.NEXTLONG_GRACE_SECONDS ?? 25);
}

/** Checks one CLI invocation (subcommand + flags) against what the code accepts; returns problems. */
function checkInvocation(where: string, args: string[], flags: Record<string, Set<string>>): string[] {
  const [cmd, ...rest] = args;
  if (!cmd || !(cmd in flags)) return [`${where}: "${cmd}" is not a nextlong subcommand`];
  const problems: string[] = [];
  const parsed = parseFlags(rest);
  for (const [flag] of parsed.flags) if (!flags[cmd]!.has(flag)) problems.push(`${where}: nextlong ${cmd} does not accept --${flag}`);
  for (const a of parsed.positionals) problems.push(`${where}: nextlong ${cmd} takes no positional argument (${a})`);
  return problems;
}

/** Runs the built CLI with `args` and a Redis URL it must refuse: an unknown flag would fail first. */
function cliParses(args: string[]): { code: number | null; stderr: string } {
  const patched = args.map((a, i) => (args[i - 1] === '--redis' ? 'invalid://redis' : a));
  const env = { ...process.env };
  delete env.REDIS_URL;
  const r = spawnSync(process.execPath, [path.join(repoRoot, APP_BIN), ...patched], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

// ---------------------------------------------------------------- kubectl kustomize

const haveKubectl = (() => {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
})();
if (!haveKubectl) console.warn('[deploy] kubectl not found on PATH: skipping the `kubectl kustomize k8s/` checks.');

/** A rendered object; specs are read loosely (the checks below say what they expect). */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

/** k8s/ copied with deploy/ next to it, and its optional components switched on. */
async function withComponents(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
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

const podSpecs = (objs: K8sObject[]) =>
  objs
    .filter((o) => o.kind === 'Job' || o.kind === 'Deployment')
    .map((o) => ({ name: `${o.kind}/${o.metadata.name}`, pod: o.spec.template }));

/** Probes, ports, security and grace period of every NExtLong pod; returns problems. */
function checkPods(objs: K8sObject[]): string[] {
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

describe('deployment files agree with the code', () => {
  const flags = acceptedFlags();

  test('the flags derived from the CLI sources look right', () => {
    expect([...flags.worker].sort()).toEqual(['concurrency', 'grace-seconds', 'lock-ms', 'metrics', 'redis', 'stage']);
    expect(flags.coordinator.has('redis') && flags.coordinator.has('metrics') && flags.coordinator.has('config')).toBe(true);
    expect(flags.run.has('target-tokens') && flags.run.has('vectors') && !flags.run.has('redis')).toBe(true);
    expect([...flags.status].sort()).toEqual(['out', 'redis', 'run']);
  });

  test('compose: every NExtLong service runs a real subcommand with accepted flags, through the image entrypoint', () => {
    expect(appServices.map(([n]) => n).sort()).toEqual(['coordinator', 'embed-worker', 'synth-worker']);
    const problems = appServices.flatMap(([name, s]) => {
      const own = s.entrypoint === undefined ? [] : [`${name}: overrides the image ENTRYPOINT`];
      return [...own, ...checkInvocation(`compose ${name}`, argv(s.command), flags)];
    });
    expect(problems).toEqual([]);
    const stages = appServices
      .map(([, s]) => flagsOf(argv(s.command).slice(1)).get('stage'))
      .filter(Boolean)
      .sort();
    expect(stages).toEqual(['embed', 'synth']);
  });

  test('compose: the built CLI accepts every command line (it stops at the Redis URL, not at a flag)', () => {
    if (!existsSync(path.join(repoRoot, 'apps', 'cli', 'dist', 'main.js'))) throw new Error('build first (npm run build)');
    for (const [name, s] of appServices) {
      const r = cliParses(argv(s.command));
      expect({ name, code: r.code, unknownFlag: /Unknown option|Unexpected argument|ERR_PARSE_ARGS/i.test(r.stderr) }).toEqual({
        name,
        code: 2,
        unknownFlag: false,
      });
      expect(r.stderr).toMatch(/--redis must be a redis:\/\/ or rediss:\/\/ URL/);
    }
  });

  test('compose: environment variables are ones the code reads; MinIO, Qdrant and Redis are wired', () => {
    const problems = appServices.flatMap(([name, s]) =>
      envNames(s.environment)
        .filter((v) => !readByCode(v))
        .map((v) => `${name}: ${v} is not read by the code`),
    );
    expect(problems).toEqual([]);
    for (const [, s] of appServices) {
      const env = s.environment as Record<string, string>;
      expect(env.AWS_ENDPOINT_URL).toBe('http://minio:9000');
      expect(env.QDRANT_URL).toBe('http://qdrant:6333');
      for (const k of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) expect(env[k]).toBeTruthy();
      expect(flagsOf(argv(s.command)).get('redis')).toBe('redis://redis:6379');
    }
    const coordinator = flagsOf(argv(compose.services.coordinator!.command));
    expect(coordinator.get('vectors')).toBe('qdrant');
    expect(coordinator.get('input')).toBe('s3://nextlong/demo/corpus');
    expect(coordinator.get('out')).toMatch(/^s3:\/\/nextlong\//);
    const init = JSON.stringify(compose.services['minio-init']);
    expect(init).toContain('local/nextlong/demo/corpus');
    expect(init).toContain('./demo/corpus:/corpus');
    expect(argv(compose.services.redis!.command).join(' ')).toMatch(/--appendonly yes .*--maxmemory-policy noeviction/);
  });

  test('compose: metrics on 9464, healthchecks on /healthz, stop grace covers the worker grace, one image', () => {
    for (const [name, s] of appServices) {
      expect({ name, metrics: flagsOf(argv(s.command)).get('metrics') ?? `:${METRICS_PORT}` }).toEqual({
        name,
        metrics: `:${METRICS_PORT}`,
      });
      expect(s.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${METRICS_PORT}/healthz`);
      expect(s.image).toBe(appImage);
      if (argv(s.command)[0] === 'worker') {
        expect(s.deploy?.replicas).toBeGreaterThanOrEqual(2);
        const grace = graceSecondsOf(argv(s.command), s.environment as Record<string, string>);
        expect(parseDuration(s.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(grace + 5);
      }
    }
    expect(appImage).toMatch(/^nextlong:\d+\.\d+\.\d+$/);
    expect(appImage.split(':')[1]).toBe((JSON.parse(read('package.json')) as { version: string }).version);
  });

  test('prometheus.yml scrapes every NExtLong compose service on 9464; grafana and prometheus mount deploy/', () => {
    const prom = YAML.parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const scraped = prom.scrape_configs.flatMap((j) =>
      (j.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((n) => [n, sd.port] as const)),
    );
    expect(Object.fromEntries(scraped)).toEqual(Object.fromEntries(appServices.map(([n]) => [n, METRICS_PORT])));
    const mounts = JSON.stringify([compose.services.prometheus, compose.services.grafana]);
    for (const p of ['./deploy/prometheus/prometheus.yml:', './deploy/grafana/provisioning:', './deploy/grafana/dashboards:'])
      expect(mounts).toContain(p);
    const provider = YAML.parse(read('deploy/grafana/provisioning/dashboards/nextlong.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(mounts).toContain(`./deploy/grafana/dashboards:${provider.providers[0]!.options.path}`);
  });

  test('the code serves metrics on 9464 by default', () => {
    expect(read('apps/cli/src/metrics-server.ts')).toMatch(/DEFAULT_ADDR = ':9464'/);
  });

  test('Dockerfile: tini runs the real bin as a non-root user; workspaces and allowScripts are honoured', () => {
    const docker = read('Dockerfile');
    const stages = docker.split(/^FROM /m).slice(1);
    const runtime = stages[stages.length - 1]!;
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(runtime);
    expect(JSON.parse(entry![1]!)).toEqual(['tini', '--', 'node', APP_BIN]);
    expect(existsSync(path.join(repoRoot, APP_BIN))).toBe(true);
    expect((JSON.parse(read('apps/cli/package.json')) as { bin: Record<string, string> }).bin.nextlong).toBe('bin/nextlong.js');
    expect(runtime).toMatch(/apt-get install[^\n]*\btini\b/);
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(/^USER (\d+)(:\d+)?$/m.exec(runtime)?.[1]).not.toBe('0');
    expect(docker).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(docker).toMatch(/^ARG ONNXRUNTIME_CUDA=false$/m);
    expect(docker).toMatch(/^EXPOSE 9464$/m);
    // every workspace manifest is copied before `npm ci` (a new package must be added there)
    const workspaces = ['packages', 'apps'].flatMap((root) =>
      readdirSync(path.join(repoRoot, root))
        .filter((d) => existsSync(path.join(repoRoot, root, d, 'package.json')))
        .map((d) => `${root}/${d}/package.json`),
    );
    for (const w of workspaces) expect(docker).toContain(`COPY ${w} `);
    // the runtime user's uid matches the pods' runAsUser
    const uid = /^USER (\d+)/m.exec(runtime)![1];
    expect(read('k8s/coordinator-job.yaml')).toContain(`runAsUser: ${uid}`);
    // runtime ENV names are read by the code
    const envs = [...runtime.matchAll(/^ENV (\w+)=/gm)].map((m) => m[1]!);
    expect(envs.filter((e) => !readByCode(e))).toEqual([]);
    expect(envs).toContain('NEXTLONG_CACHE');
  });

  test('k8s: the run config is a valid run configuration; the Secret example holds only variables the code reads', () => {
    const cfg = YAML.parse(read('k8s/config/nextlong.yaml')) as Record<string, unknown>;
    const camel = Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
    expect(() => parseRunConfig(camel)).not.toThrow();
    const secret = YAML.parse(read('k8s/secret.example.yaml')) as K8sObject & { stringData: Record<string, string> };
    expect(secret.metadata.name).toBe('nextlong-credentials');
    expect(Object.keys(secret.stringData).filter((k) => !readByCode(k))).toEqual([]);
    expect(Object.keys(secret.stringData)).toContain('REDIS_URL');
    // the example is documentation, never applied by the kustomization
    expect(read('k8s/kustomization.yaml')).not.toMatch(/^\s*-\s*secret\.example\.yaml/m);
  });

  test('the dashboard names only metrics the code exports and only Grafana variables the tests expand', async () => {
    const exported = new Set<string>();
    for (const m of (await registry.getMetricsAsJSON()) as unknown as { name: string; type: string }[]) {
      exported.add(m.name);
      if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
    }
    const dash = read('deploy/grafana/dashboards/nextlong.json');
    const exprs = [...dash.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(exprs.length).toBeGreaterThan(20);
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\bnextlong_[a-z0-9_]+/g)].map((m) => m[0])));
    expect([...names].filter((n) => !exported.has(n))).toEqual([]);
    const variables = new Set(exprs.flatMap((e) => [...e.matchAll(/\$\{?(\w+)\}?/g)].map((m) => m[1]!)));
    expect([...variables].filter((v) => !['__rate_interval', '__range', '__interval'].includes(v))).toEqual([]);
    // every dashboard JSON is in the kustomize ConfigMap generator
    const gen = read('deploy/grafana/kustomization.yaml');
    for (const f of readdirSync(path.join(repoRoot, 'deploy', 'grafana', 'dashboards')).filter((f) => f.endsWith('.json')))
      expect(gen).toContain(`dashboards/${f}`);
  });

  const k = haveKubectl ? describe : describe.skip;
  k(haveKubectl ? 'kubectl kustomize' : 'kubectl kustomize (SKIPPED: kubectl not on PATH)', () => {
    let objs: K8sObject[];
    beforeAll(() => {
      objs = kustomize(path.join(repoRoot, 'k8s'));
    });

    test('k8s/ renders: namespace, config, coordinator and worker Jobs, Services, dashboard; no Secret', () => {
      const kinds = objs.map((o) => `${o.kind}/${o.metadata.name.replace(/^(nextlong-(?:config|env))-[a-z0-9]{10}$/, '$1')}`).sort();
      expect(kinds).toEqual(
        [
          'Namespace/nextlong',
          'ConfigMap/nextlong-config',
          'ConfigMap/nextlong-env',
          'ConfigMap/nextlong-grafana-dashboards',
          'Service/nextlong-coordinator',
          'Service/nextlong-embed-worker',
          'Service/nextlong-synth-worker',
          'Job/nextlong-coordinator',
          'Job/nextlong-embed-worker',
          'Job/nextlong-synth-worker',
        ].sort(),
      );
      for (const o of objs.filter((o) => o.kind !== 'Namespace'))
        expect({ o: o.metadata.name, ns: o.metadata.namespace }).toEqual({ o: o.metadata.name, ns: 'nextlong' });
      const workers = objs.filter((o) => o.kind === 'Job' && o.metadata.name.endsWith('-worker'));
      for (const w of workers) expect(w.spec.parallelism).toBeGreaterThanOrEqual(1);
      const dash = objs.find((o) => o.metadata.name === 'nextlong-grafana-dashboards')!;
      expect(dash.metadata.labels?.grafana_dashboard).toBe('1');
      expect(JSON.parse(dash.data!['nextlong.json']!)).toEqual(JSON.parse(read('deploy/grafana/dashboards/nextlong.json')));
    });

    test('every pod: probes, metrics port, read-only root, no capabilities, seccomp, grace period, resources', () => {
      expect(podSpecs(objs)).toHaveLength(3);
      expect(checkPods(objs)).toEqual([]);
    });

    test('pods run real subcommands with accepted flags, the compose image, and read only known variables', () => {
      const problems: string[] = [];
      const configMaps = new Map(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o]));
      for (const { name, pod } of podSpecs(objs)) {
        for (const c of pod.spec.containers) {
          problems.push(...checkInvocation(`${name}`, (c.args ?? []).map(String), flags));
          if (c.image !== appImage) problems.push(`${name}: image ${c.image}, compose uses ${appImage}`);
          for (const e of c.env ?? []) if (!readByCode(e.name)) problems.push(`${name}: env ${e.name} is not read by the code`);
          for (const ref of c.envFrom ?? []) {
            if (ref.secretRef) {
              if (ref.secretRef.name !== 'nextlong-credentials') problems.push(`${name}: unknown Secret ${ref.secretRef.name}`);
              continue;
            }
            const cm = configMaps.get(ref.configMapRef?.name);
            if (!cm) problems.push(`${name}: envFrom ConfigMap ${ref.configMapRef?.name} is not rendered`);
            for (const key of Object.keys(cm?.data ?? {}))
              if (!readByCode(key)) problems.push(`${name}: env ${key} (ConfigMap) is not read by the code`);
          }
          const r = cliParses((c.args ?? []).map(String));
          if (r.code !== 2 || /Unknown option|Unexpected argument/i.test(r.stderr))
            problems.push(`${name}: the CLI rejects its arguments: ${r.stderr.trim()}`);
        }
      }
      expect(problems).toEqual([]);
      const coordinator = objs.find((o) => o.kind === 'Job' && o.metadata.name === 'nextlong-coordinator')!;
      const mount = coordinator.spec.template.spec.containers[0].volumeMounts.find((v: { name: string }) => v.name === 'config');
      const cfgFlag = flagsOf(coordinator.spec.template.spec.containers[0].args).get('config');
      expect(cfgFlag).toBe(`${mount.mountPath}/nextlong.yaml`);
    });

    test('Services expose 9464 with scrape annotations and select the pods of their component', () => {
      const services = objs.filter((o) => o.kind === 'Service');
      const pods = podSpecs(objs);
      for (const s of services) {
        expect(s.spec.ports.map((p: { port: number }) => p.port)).toEqual([METRICS_PORT]);
        expect(s.metadata.annotations?.['prometheus.io/port']).toBe(String(METRICS_PORT));
        expect(s.metadata.annotations?.['prometheus.io/scrape']).toBe('true');
        const selected = pods.filter(({ pod }) =>
          Object.entries(s.spec.selector as Record<string, string>).every(([k, v]) => pod.metadata.labels?.[k] === v),
        );
        expect({ service: s.metadata.name, pods: selected.length }).toEqual({ service: s.metadata.name, pods: 1 });
      }
    });

    test('with the optional components (KEDA, PodMonitor): autoscaled worker Deployments pass the same checks', async () => {
      const { dir, cleanup } = await withComponents();
      try {
        const all = kustomize(path.join(dir, 'k8s'));
        const kinds = all.map((o) => `${o.kind}/${o.metadata.name}`);
        expect(kinds).toEqual(
          expect.arrayContaining([
            'Deployment/nextlong-embed-worker',
            'Deployment/nextlong-synth-worker',
            'ScaledObject/nextlong-embed-worker',
            'ScaledObject/nextlong-synth-worker',
            'PodMonitor/nextlong',
          ]),
        );
        expect(kinds).not.toContain('Job/nextlong-embed-worker');
        expect(checkPods(all)).toEqual([]);
        // each ScaledObject scales its Deployment by the BullMQ lists of that stage's queue
        const queues = { 'nextlong-embed-worker': 'nextlong-embed', 'nextlong-synth-worker': 'nextlong-synth' } as Record<string, string>;
        expect(read('packages/fleet/src/jobs.ts')).toMatch(/QUEUES = \{ embed: 'nextlong-embed', synth: 'nextlong-synth' \}/);
        for (const so of all.filter((o) => o.kind === 'ScaledObject')) {
          expect(so.spec.scaleTargetRef.name).toBe(so.metadata.name);
          const lists = so.spec.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName).sort();
          expect(lists).toEqual([`bull:${queues[so.metadata.name]}:active`, `bull:${queues[so.metadata.name]}:wait`]);
        }
        for (const d of all.filter((o) => o.kind === 'Deployment')) {
          const env = d.spec.template.spec.containers[0].envFrom
            .map((e: { configMapRef?: { name: string } }) => e.configMapRef?.name)
            .filter(Boolean);
          expect(env.every((n: string) => all.some((o) => o.kind === 'ConfigMap' && o.metadata.name === n))).toBe(true);
        }
      } finally {
        await cleanup();
      }
    });
  });
});
