/**
 * What docker-compose.yml and k8s/ say about the NExtLong containers, read from those files so
 * that the container test runs exactly what a user deploys and breaks when the files drift:
 * commands, environment variable names, healthcheck, grace periods, security settings.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@nextlong/testing';
import YAML from 'yaml';

const METRICS = ':9464';

type Doc = Record<string, unknown>;
// merge: docker-compose.yml builds its services from anchors with `<<` merge keys
const load = (rel: string): Doc => YAML.parse(readFileSync(path.join(repoRoot, rel), 'utf8'), { merge: true }) as Doc;
const obj = (v: unknown, what: string): Doc => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: expected a mapping`);
  return v as Doc;
};
const strings = (v: unknown, what: string): string[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what}: expected a list of strings`);
  return v as string[];
};

/** A compose duration ('35s', '1m30s') in seconds. */
export function seconds(d: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || (!m[1] && !m[2])) throw new Error(`unsupported duration: ${d}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/** `args` with the value after `flag` replaced; throws when `flag` is absent or its value is not `expect`. */
export function replaceFlag(args: string[], flag: string, value: string, expect?: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0 || i + 1 >= args.length) throw new Error(`${flag} not found in ${JSON.stringify(args)}`);
  if (expect !== undefined && args[i + 1] !== expect) throw new Error(`${flag} is ${args[i + 1]}, expected ${expect}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** `args` without `flag` and its value. */
export function dropFlag(args: string[], flag: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`${flag} not found in ${JSON.stringify(args)}`);
  return [...args.slice(0, i), ...args.slice(i + 2)];
}

export interface Healthcheck {
  /** The check as a shell command (docker run --health-cmd), metrics port still 9464. */
  shell(port: number): string;
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export interface ComposeService {
  image: string;
  command: string[];
  /** Names of the environment variables the service sets. */
  env: string[];
  healthcheck: Healthcheck;
  stopGraceSeconds: number;
  replicas: number;
  memory?: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function healthcheck(h: Doc): Healthcheck {
  const test = strings(h.test, 'healthcheck.test');
  if (test[0] !== 'CMD') throw new Error(`healthcheck.test: expected ['CMD', ...], got ${test[0]}`);
  const body = test.slice(1).map((a) => a.replace(/\$\$/g, '$')); // compose's escape of a literal $
  if (!body.some((a) => a.includes(`127.0.0.1${METRICS}/healthz`))) throw new Error('healthcheck does not probe 127.0.0.1:9464/healthz');
  return {
    shell: (port) => body.map((a) => shellQuote(a.replace(`127.0.0.1${METRICS}/`, `127.0.0.1:${port}/`))).join(' '),
    interval: String(h.interval),
    timeout: String(h.timeout),
    retries: Number(h.retries),
    startPeriod: String(h.start_period),
  };
}

/** A NExtLong service of docker-compose.yml (anchors and merge keys resolved). */
export function composeService(name: string): ComposeService {
  const compose = load('docker-compose.yml');
  const s = obj(obj(compose.services, 'services')[name], `services.${name}`);
  const deploy = s.deploy ? obj(s.deploy, `${name}.deploy`) : {};
  const limits = (deploy.resources as { limits?: { memory?: string } } | undefined)?.limits;
  return {
    image: String(s.image),
    command: strings(s.command, `services.${name}.command`),
    env: Object.keys(obj(s.environment, `services.${name}.environment`)),
    healthcheck: healthcheck(obj(s.healthcheck, `services.${name}.healthcheck`)),
    stopGraceSeconds: seconds(String(s.stop_grace_period)),
    replicas: Number(deploy.replicas ?? 1),
    memory: limits?.memory,
  };
}

export interface K8sContainer {
  image: string;
  args: string[];
  /** Secret keys and ConfigMap literals every pod gets through envFrom. */
  env: string[];
  livenessPath: string;
  readinessPath: string;
  runAsUser: number;
  runAsGroup: number;
  readOnlyRootFilesystem: boolean;
  dropCapabilities: string[];
  /** emptyDir mount paths (tmpfs in the test). */
  emptyDirs: string[];
  /** configMap mount path and the file the ConfigMap generator puts there. */
  configMount?: { mountPath: string; file: string; source: string };
  terminationGraceSeconds: number;
}

/** The single container of a k8s Job manifest. */
export function k8sContainer(file: string): K8sContainer {
  const job = load(`k8s/${file}`);
  const pod = obj(obj(obj(obj(job.spec, 'spec').template, 'template').spec, 'pod spec'), 'pod spec');
  const [c] = pod.containers as Doc[];
  const psc = obj(pod.securityContext, 'pod securityContext');
  const csc = obj(c!.securityContext, 'container securityContext');
  const volumes = new Map((pod.volumes as Doc[]).map((v) => [String(v.name), v]));
  const mounts = c!.volumeMounts as { name: string; mountPath: string }[];
  const kust = load('k8s/kustomization.yaml');
  const generators = kust.configMapGenerator as { name: string; files?: string[]; literals?: string[] }[];
  const secret = obj(load('k8s/secret.example.yaml').stringData, 'secret stringData');
  const envFrom = c!.envFrom as { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  const env: string[] = [];
  for (const e of envFrom) {
    if (e.secretRef) env.push(...Object.keys(secret));
    if (e.configMapRef) env.push(...(generators.find((g) => g.name === e.configMapRef!.name)?.literals ?? []).map((l) => l.split('=')[0]!));
  }
  let configMount: K8sContainer['configMount'];
  for (const m of mounts) {
    const cm = volumes.get(m.name)?.configMap as { name: string } | undefined;
    if (!cm) continue;
    const [file, source] = (generators.find((g) => g.name === cm.name)?.files ?? [])[0]!.split('=');
    configMount = { mountPath: m.mountPath, file: file!, source: path.join('k8s', source!) };
  }
  const probe = (p: unknown) => String(obj(obj(p, 'probe').httpGet, 'httpGet').path);
  return {
    image: String(c!.image),
    args: strings(c!.args, `${file} args`),
    env,
    livenessPath: probe(c!.livenessProbe),
    readinessPath: probe(c!.readinessProbe),
    runAsUser: Number(psc.runAsUser),
    runAsGroup: Number(psc.runAsGroup),
    readOnlyRootFilesystem: csc.readOnlyRootFilesystem === true,
    dropCapabilities: strings(obj(csc.capabilities, 'capabilities').drop, 'capabilities.drop'),
    emptyDirs: mounts.filter((m) => volumes.get(m.name)?.emptyDir !== undefined).map((m) => m.mountPath),
    configMount,
    terminationGraceSeconds: Number(pod.terminationGracePeriodSeconds),
  };
}

/** The k8s run configuration (k8s/config/nextlong.yaml, mounted into the coordinator). */
export function k8sRunConfig(source: string): Doc {
  return load(source);
}

export { METRICS };
