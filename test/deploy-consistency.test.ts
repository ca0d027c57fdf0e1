/**
 * docker-compose.yml, k8s/, deploy/ and the Dockerfile agree with the code: commands are real CLI
 * subcommands with flags the CLI accepts, environment variables are ones the code reads, metrics
 * are served on 9464 everywhere, one app image, probes and security settings on every pod, and the
 * dashboard only names metrics the code exports. `kubectl kustomize` parts skip without kubectl.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { registry } from '@nextlong/metrics';
import { repoRoot } from '@nextlong/testing';
import YAML from 'yaml';
import {
  acceptedFlags,
  APP_BIN,
  appImage,
  appServices,
  argv,
  checkInvocation,
  checkPods,
  cliParses,
  compose,
  envNames,
  flagsOf,
  graceSecondsOf,
  haveKubectl,
  K8sObject,
  kustomize,
  METRICS_PORT,
  parseDuration,
  podSpecs,
  read,
  readByCode,
  withComponents,
} from './deploy-support.js';

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
