/**
 * `npm run test:docker`: the image built from the working tree, and the fleet run in containers
 * as docker-compose.yml and k8s/ deploy it (commands, environment, healthcheck and security
 * settings read from those files), against a redis-server and s3rver this test starts. Not part
 * of `npm test` (jest's testMatch does not see *.docker.ts). Without a reachable Docker engine it
 * says so and passes. The engine here has no bridge network, so every container runs on the
 * host network and each one gets its own metrics port instead of 9464 (healthcheck to match).
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import {
  cliProcesses,
  fixturePath,
  freePort,
  repoRoot,
  startRedis,
  startS3rver,
  type RedisHandle,
  type S3rverHandle,
} from '@nextlong/testing';
import YAML from 'yaml';
import { decompress } from 'zstd-napi';
import { composeService, dropFlag, k8sContainer, k8sRunConfig, METRICS, replaceFlag } from './deploy-spec.js';
import {
  containerState,
  docker,
  dockerOk,
  engineUnreachable,
  LABEL,
  removeOurContainers,
  runDetached,
  waitHealthy,
  type RunSpec,
} from './engine.js';

const MAX_IMAGE_BYTES = 800e6;
const say = (line: string) => process.stdout.write(`test:docker: ${line}\n`);

const unreachable = engineUnreachable();
if (unreachable) {
  say(`SKIPPED: no Docker engine reachable (${unreachable}).`);
  say('Start one, then run `npm run test:docker` again (README: "Docker, Kubernetes and Grafana", "No registry access?").');
}
const suite = unreachable ? describe.skip : describe;

/** Test values for every environment variable the deployment files set; an unknown one fails. */
function envFor(names: string[], values: Record<string, string>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    if (!(n in values)) throw new Error(`${where} sets ${n}, which test/docker does not know: give it a test value`);
    out[n] = values[n]!;
  }
  return out;
}

async function parts(store: StreamingObjectStore): Promise<Record<string, string>> {
  const res: Record<string, string> = {};
  for await (const k of store.list('sequences/')) res[k] = decompress(Buffer.from(await store.get(k))).toString('utf8');
  return res;
}

suite('containers: the image and the fleet as compose and k8s run it', () => {
  const coordinatorK8s = k8sContainer('coordinator-job.yaml');
  const workers = (['embed', 'synth'] as const).map((stage) => ({
    stage,
    compose: composeService(`${stage}-worker`),
    k8s: k8sContainer(`${stage}-worker-job.yaml`),
  }));
  const image = composeService('coordinator').image;
  const tag = `${process.pid}`;
  let redis: RedisHandle;
  let s3: S3rverHandle;
  let tmp: string;
  let values: Record<string, string>;
  let reference: Record<string, string>;
  const saved = { ...process.env };
  const cli = cliProcesses();

  /** The k8s run configuration with a small run of the test corpus, written for `out`. */
  async function runConfig(out: string): Promise<string> {
    const cfg = k8sRunConfig(coordinatorK8s.configMount!.source);
    const small = { input: ['s3://corpus/in'], out, targetTokens: 8192, shardDocs: 10 };
    for (const k of [...Object.keys(small), 'sequences']) if (!(k in cfg)) throw new Error(`k8s run config has no ${k}`);
    delete cfg.sequences; // every meta-document of the small corpus
    const dir = path.join(tmp, out.replace(/\W+/g, '-'));
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755); // readable by uid 10001 in the container
    const file = path.join(dir, coordinatorK8s.configMount!.file);
    await writeFile(file, YAML.stringify({ ...cfg, ...small }), { mode: 0o644 });
    return file;
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'nextlong-docker-'));
    await chmod(tmp, 0o755);
    const t0 = Date.now();
    const log = path.join(tmp, 'build.log');
    say(`building ${image} from ${repoRoot} (log: ${log}) ...`);
    const b = await docker(['build', '--network', 'host', '-t', image, repoRoot], { log });
    if (b.code !== 0) throw new Error(`docker build failed (${b.code}):\n${(await readFile(log, 'utf8')).slice(-4000)}`);
    say(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    [redis, s3] = await Promise.all([startRedis(), startS3rver({ buckets: ['corpus', 'results'] })]);
    Object.assign(process.env, s3.env);
    values = { ...s3.env, REDIS_URL: redis.url, QDRANT_URL: '', QDRANT_API_KEY: '' };
    await openObjectStore('s3://corpus/in').put('docs.jsonl', await readFile(fixturePath('docs-a.slice.jsonl')));
    // the reference: the same configuration through a local `nextlong run` (built CLI)
    const local = cli.start(['run', '--config', await runConfig('s3://results/local'), '--quiet'], s3.env);
    if ((await cli.exitWithin(local, 300_000)) !== 0) throw new Error(`local nextlong run failed:\n${local.log()}`);
    reference = await parts(openObjectStore('s3://results/local'));
    expect(Object.keys(reference).length).toBeGreaterThan(1);
  }, 3_600_000);

  afterAll(async () => {
    cli.killAll();
    process.env = saved;
    await removeOurContainers();
    await Promise.all([redis?.stop(), s3?.stop()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('the image: lean, production dependencies only, no compilers, a non-root user', async () => {
    const size = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', image]));
    say(`image ${image}: ${(size / 1e6).toFixed(0)} MB (limit ${MAX_IMAGE_BYTES / 1e6} MB)`);
    expect(size).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
    expect(await dockerOk(['image', 'inspect', '--format', '{{.Config.User}}', image])).toBe('10001:10001');
    const sh = (script: string) =>
      dockerOk(['run', '--rm', '--label', LABEL, '--network', 'host', '--entrypoint', 'sh', image, '-c', script]);
    expect(await sh('id -u; id -g')).toBe('10001\n10001');
    expect(await sh('for c in gcc g++ cc c++ clang make python3; do command -v $c; done; true')).toBe('');
    // packages the lock file marks dev-only must not be installed
    const devInstalled = await sh(
      `node -e 'const fs = require("fs"); const l = require("/app/package-lock.json"); console.log(Object.entries(l.packages).filter(([k, v]) => v.dev && k.includes("node_modules/") && fs.existsSync("/app/" + k)).map(([k]) => k).join(" "))'`,
    );
    expect(devInstalled).toBe('');
    expect(await sh('node apps/cli/bin/nextlong.js --help | head -1')).toMatch(/^nextlong/);
  });

  test('compose and k8s agree on the worker commands and environment', () => {
    for (const w of workers) {
      expect(dropFlag(w.compose.command, '--redis')).toEqual(w.k8s.args);
      expect(new Set(w.k8s.env)).toEqual(new Set([...w.compose.env, 'REDIS_URL', 'QDRANT_API_KEY']));
      expect(w.k8s.livenessPath).toBe('/healthz');
      expect(w.compose.healthcheck.shell(9464)).toContain(`127.0.0.1${METRICS}${w.k8s.livenessPath}`);
      expect(w.compose.replicas).toBe(2);
    }
  });

  test('coordinator + 2 embed + 2 synth containers: healthy while working, output identical to `nextlong run`, clean stop', async () => {
    const names: string[] = [];
    const ports = new Map<string, number>();
    // workers as docker-compose.yml runs them (image user, memory limit), Redis and metrics ours
    for (const w of workers)
      for (let i = 1; i <= w.compose.replicas; i++) {
        const port = await freePort();
        const name = `nextlong-test-${w.stage}-${i}-${tag}`;
        const c = w.compose;
        const spec: RunSpec = {
          name,
          image: c.image,
          args: replaceFlag(replaceFlag(c.command, '--redis', redis.url, 'redis://redis:6379'), '--metrics', `:${port}`, METRICS),
          env: envFor(c.env, values, `docker-compose.yml ${w.stage}-worker`),
          health: { ...c.healthcheck, cmd: c.healthcheck.shell(port) },
          options: [...(c.memory ? ['--memory', c.memory] : []), '--stop-timeout', String(c.stopGraceSeconds)],
        };
        await runDetached(spec);
        names.push(name);
        ports.set(name, port);
      }
    await Promise.all(names.map((n) => waitHealthy(n, 120_000)));
    say(`${names.length} workers healthy`);

    // the coordinator as the k8s Job runs it: its args, its ConfigMap file, its security settings
    const k = coordinatorK8s;
    const coordinator = `nextlong-test-coordinator-${tag}`;
    const cport = await freePort();
    const configFile = await runConfig('s3://results/fleet');
    const health = composeService('coordinator').healthcheck;
    await runDetached({
      name: coordinator,
      image: k.image,
      args: replaceFlag(k.args, '--metrics', `:${cport}`, METRICS),
      env: envFor(k.env, values, 'k8s coordinator-job.yaml'),
      health: { ...health, cmd: health.shell(cport) },
      options: [
        '--user',
        `${k.runAsUser}:${k.runAsGroup}`,
        ...(k.readOnlyRootFilesystem ? ['--read-only'] : []),
        ...k.dropCapabilities.flatMap((c) => ['--cap-drop', c]),
        '--security-opt',
        'no-new-privileges',
        ...k.emptyDirs.flatMap((d) => ['--tmpfs', `${d}:rw,mode=1777`]),
        '-v',
        `${path.dirname(configFile)}:${k.configMount!.mountPath}:ro`,
        '--stop-timeout',
        String(k.terminationGraceSeconds),
      ],
    });
    names.push(coordinator);
    ports.set(coordinator, cport);

    // while the run works: every container's healthcheck passes and /readyz answers
    const seen = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
    const ready = new Set<string>();
    const exit = dockerOk(['wait', coordinator]);
    let done = false;
    void exit.finally(() => (done = true));
    while (!done) {
      for (const n of names) {
        const s = await containerState(n);
        if (s.Status === 'running') seen.get(n)!.add(s.Health?.Status ?? 'none');
        const r = await fetch(`http://127.0.0.1:${ports.get(n)}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        if (r?.status === 200) ready.add(n);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const code = Number(await exit);
    if (code !== 0) {
      const logs = await docker(['logs', '--tail', '60', coordinator]);
      throw new Error(`coordinator exited ${code}:\n${logs.stdout}${logs.stderr}`);
    }
    for (const n of names) {
      expect([n, [...seen.get(n)!].filter((h) => h === 'unhealthy')]).toEqual([n, []]);
      // docker's rule: a container is unhealthy after `retries` failed checks in a row (checks
      // inside start_period do not count); on a loaded machine a single check may time out
      const h = (await containerState(n)).Health!;
      expect([n, h.Log.some((l) => l.ExitCode === 0)]).toEqual([n, true]);
      if (n !== coordinator) expect([n, h.Status]).toEqual([n, 'healthy']);
    }
    expect([...seen.get(coordinator)!]).toContain('healthy');
    expect([...ready].sort()).toEqual([...names].sort());

    const got = await parts(openObjectStore('s3://results/fleet'));
    expect(Object.keys(got)).toEqual(Object.keys(reference));
    expect(got).toEqual(reference);
    say(`${Object.keys(got).length} parts byte-identical to the local run`);

    // non-root in the running worker containers
    const workerNames = names.filter((n) => n !== coordinator);
    for (const n of workerNames) expect(await dockerOk(['exec', n, 'id', '-u'])).toBe('10001');

    // `docker stop`: SIGTERM through tini, every worker exits 0 within its grace period
    await Promise.all(workerNames.map((n) => dockerOk(['stop', n])));
    for (const n of workerNames) {
      const s = await containerState(n);
      expect([n, s.ExitCode, s.OOMKilled]).toEqual([n, 0, false]);
    }
  }, 900_000);
});
