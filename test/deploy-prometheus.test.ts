/**
 * The monitoring stack against a real fleet run: `promtool check config` accepts
 * deploy/prometheus/prometheus.yml, and every PromQL expression of the Grafana dashboard returns
 * data from a Prometheus (Debian's `prometheus` binary, from PATH) that scraped a real run of the
 * built CLI (coordinator + one embed and one synth worker on redis-server and s3rver).
 * Skips, with a note, when `promtool` / `prometheus` are not on PATH (apt-get install prometheus).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openObjectStore } from '@nextlong/storage';
import { fixturePath, freePort, repoRoot, startRedis, startS3rver, type RedisHandle, type S3rverHandle } from '@nextlong/testing';
import YAML from 'yaml';

const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
const PROMETHEUS_YML = path.join(repoRoot, 'deploy', 'prometheus', 'prometheus.yml');
const DASHBOARD = path.join(repoRoot, 'deploy', 'grafana', 'dashboards', 'nextlong.json');

const onPath = (cmd: string) => {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
};
const havePromtool = onPath('promtool');
const havePrometheus = onPath('prometheus');
if (!havePromtool || !havePrometheus) {
  console.warn(
    `[deploy] ${havePromtool ? '' : 'promtool '}${havePrometheus ? '' : 'prometheus '}not found on PATH: skipping the Prometheus/dashboard tests (apt-get install prometheus).`,
  );
}

/** Grafana's built-in variables as a dashboard would expand them for a short, recent run. */
const GRAFANA_VARIABLES: Record<string, string> = { __rate_interval: '1m', __interval: '5s', __range: '10m' };

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  title: string;
  targets?: Target[];
  panels?: Panel[];
}

/** Every `targets[].expr` of the dashboard (rows included), with the panel title. */
function dashboardExpressions(dashboard: { panels: Panel[] }): { title: string; expr: string }[] {
  const out: { title: string; expr: string }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push({ title: `${p.title} [${t.refId}]`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return out;
}

function expand(expr: string): string {
  const s = expr.replace(/\$\{?(__\w+)\}?/g, (m, name: string) => GRAFANA_VARIABLES[name] ?? m);
  if (s.includes('$')) throw new Error(`unexpanded Grafana variable in: ${expr}`);
  return s;
}

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

const d = havePromtool ? describe : describe.skip;
d(havePromtool ? 'deploy/prometheus/prometheus.yml' : 'deploy/prometheus/prometheus.yml (SKIPPED: promtool not on PATH)', () => {
  test('promtool check config accepts it', () => {
    const r = promtool(['check', 'config', PROMETHEUS_YML]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

type ScrapeConfig = Record<string, unknown> & { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] };

/**
 * The compose configuration with each DNS-discovered NExtLong service replaced by the local
 * process that plays it, and a 1 s scrape interval. Everything else (job names, relabelling) is kept.
 */
function localVariant(composeConfig: string, ports: Record<string, number>, selfPort: number): string {
  const cfg = YAML.parse(composeConfig) as { global: Record<string, unknown>; scrape_configs: ScrapeConfig[] };
  cfg.global = { ...cfg.global, scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' };
  cfg.scrape_configs = cfg.scrape_configs.map((job) => {
    if (!job.dns_sd_configs)
      return job.job_name === 'prometheus' ? { ...job, static_configs: [{ targets: [`127.0.0.1:${selfPort}`] }] } : job;
    const { dns_sd_configs, ...rest } = job;
    const targets = dns_sd_configs.flatMap((sd) =>
      sd.names.map((name) => {
        if (ports[name] === undefined) throw new Error(`no local process for service ${name}`);
        return `127.0.0.1:${ports[name]}`;
      }),
    );
    return { ...rest, static_configs: [{ targets }] };
  });
  return YAML.stringify(cfg);
}

interface Proc {
  p: ChildProcess;
  log: () => string;
  exit: Promise<number | null>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, procs: Proc[]): Proc {
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stdout!.on('data', (b: Buffer) => (log += b));
  p.stderr!.on('data', (b: Buffer) => (log += b));
  const proc = { p, log: () => log, exit: new Promise<number | null>((r) => p.once('exit', (code) => r(code))) };
  procs.push(proc);
  return proc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

const e2e = havePromtool && havePrometheus ? describe : describe.skip;
e2e(
  havePrometheus ? 'dashboard queries on a real fleet run' : 'dashboard queries on a real fleet run (SKIPPED: prometheus not on PATH)',
  () => {
    let redis: RedisHandle;
    let s3: S3rverHandle;
    let dir: string;
    let promUrl: string;
    let prometheus: Proc;
    let workers: Proc[] = [];
    let sequencesWritten = 0;
    const procs: Proc[] = [];
    const saved = { ...process.env };

    const query = async (q: string): Promise<PromResult> => {
      const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query: q })}`);
      return (await res.json()) as PromResult;
    };
    const scalar = async (q: string): Promise<number | undefined> => {
      const r = await query(q);
      const v = r.data?.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-prometheus-'));
      [redis, s3] = await Promise.all([startRedis(), startS3rver({ buckets: ['corpus', 'results'] })]);
      Object.assign(process.env, s3.env);
      // the fixture plus one malformed record (in a shard of ten, under the bad-share limit), so that
      // rejects are counted for real
      const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
      lines.splice(5, 0, '{"id": "broken", "text": ');
      await openObjectStore('s3://corpus/in').put('docs.jsonl', lines.join('\n') + '\n');

      const [embedPort, synthPort, coordPort, promPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const cfgFile = path.join(dir, 'prometheus.yml');
      const ports = { 'embed-worker': embedPort, 'synth-worker': synthPort, coordinator: coordPort };
      await writeFile(cfgFile, localVariant(await readFile(PROMETHEUS_YML, 'utf8'), ports, promPort));
      const check = promtool(['check', 'config', cfgFile]);
      if (check.status !== 0) throw new Error(`the local Prometheus configuration is invalid: ${check.output}`);

      promUrl = `http://127.0.0.1:${promPort}`;
      prometheus = start(
        'prometheus',
        [
          `--config.file=${cfgFile}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        process.env,
        procs,
      );
      await within(
        30_000,
        'prometheus ready',
        (async () => {
          for (;;) {
            if (prometheus.p.exitCode !== null) throw new Error(`prometheus exited: ${prometheus.log()}`);
            const ok = await fetch(`${promUrl}/-/ready`).then(
              (r) => r.ok,
              () => false,
            );
            if (ok) return;
            await sleep(200);
          }
        })(),
      );

      // the fleet, as in test/fleet.test.ts: the built CLI, one worker per stage and the coordinator
      const env = { ...process.env, ...s3.env, NEXTLONG_METRICS_LINGER_SECONDS: '3' };
      const worker = (stage: string, port: number) =>
        start(
          process.execPath,
          [
            BIN,
            'worker',
            '--stage',
            stage,
            '--redis',
            redis.url,
            '--lock-ms',
            '4000',
            '--grace-seconds',
            '5',
            '--metrics',
            `127.0.0.1:${port}`,
          ],
          env,
          procs,
        );
      workers = [worker('embed', embedPort), worker('synth', synthPort)];
      const coordinator = start(
        process.execPath,
        [
          BIN,
          'coordinator',
          '--redis',
          redis.url,
          '--input',
          's3://corpus/in',
          '--out',
          's3://results/prom',
          '--target-tokens',
          '8192',
          '--shard-docs',
          '10',
          '--seed',
          '1',
          '--metrics',
          `127.0.0.1:${coordPort}`,
        ],
        env,
        procs,
      );
      const code = await within(150_000, 'the fleet run', coordinator.exit);
      if (code !== 0)
        throw new Error(`coordinator exited ${code}:\n${coordinator.log()}\n----\n${workers.map((w) => w.log()).join('\n----\n')}`);
      const manifest = JSON.parse(Buffer.from(await openObjectStore('s3://results/prom').get('manifest.json')).toString('utf8')) as {
        counts: { sequences_written: number };
      };
      sequencesWritten = manifest.counts.sequences_written;

      // the workers stay up until Prometheus has scraped their final counts (a few more scrapes)
      await within(
        30_000,
        'final scrapes',
        (async () => {
          for (;;) {
            const got = await scalar('sum(nextlong_sequences_written_total)');
            if (got === sequencesWritten) return;
            await sleep(500);
          }
        })(),
      );
      await sleep(3_000);
    }, 240_000);

    afterAll(async () => {
      for (const w of workers) if (w.p.exitCode === null) w.p.kill('SIGTERM');
      await Promise.all(workers.map((w) => within(20_000, 'worker exit', w.exit).catch(() => w.p.kill('SIGKILL'))));
      for (const p of procs) if (p.p.exitCode === null) p.p.kill('SIGTERM');
      await Promise.all(procs.map((p) => within(10_000, 'process exit', p.exit).catch(() => p.p.kill('SIGKILL'))));
      process.env = saved;
      await Promise.all([redis?.stop(), s3?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    test('Prometheus scraped the coordinator and both workers during the run', async () => {
      expect(sequencesWritten).toBeGreaterThan(0);
      for (const job of ['nextlong-coordinator', 'nextlong-embed-worker', 'nextlong-synth-worker']) {
        const scrapes = await scalar(`sum(count_over_time(up{job="${job}"}[10m]))`);
        expect({ job, scrapes: (scrapes ?? 0) >= 2 }).toEqual({ job, scrapes: true });
      }
      // the coordinator's progress gauge reached the end of every stage
      const done = await query('max by (stage) (last_over_time(nextlong_shards{state="done"}[10m]))');
      expect(Object.fromEntries(done.data!.result.map((r) => [r.metric.stage, Number(r.value[1]) > 0]))).toEqual({
        embed: true,
        index: true,
        synth: true,
      });
    });

    test('every PromQL expression of the Grafana dashboard returns data', async () => {
      const exprs = dashboardExpressions(JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] });
      expect(exprs.length).toBeGreaterThan(20);
      const problems: string[] = [];
      const nanOnly: string[] = [];
      for (const { title, expr } of exprs) {
        const r = await query(expand(expr));
        if (r.status !== 'success') problems.push(`${title}: ${r.error ?? r.status} — ${expr}`);
        else if (!r.data || r.data.result.length === 0) problems.push(`${title}: no data — ${expr}`);
        else if (r.data.result.every((s) => s.value[1] === 'NaN')) nanOnly.push(title);
      }
      expect(problems).toEqual([]);
      // histograms that no code path of this run observes (e.g. Qdrant upserts on a segments run) give NaN
      if (nanOnly.length) console.log(`[deploy] dashboard queries with only NaN samples on this run: ${nanOnly.join(', ')}`);
    });

    test('the counters agree with the manifest', async () => {
      expect(await scalar('sum(last_over_time(nextlong_sequences_written_total[10m]))')).toBe(sequencesWritten);
      // the broken record, read once as pool (embed) and once as input (synth)
      const rejected = await query('sum by (stage, reason) (last_over_time(nextlong_documents_rejected_total[10m]))');
      expect(rejected.data!.result.map((r) => [r.metric.stage, Number(r.value[1])]).sort()).toEqual([
        ['embed', 1],
        ['synth', 1],
      ]);
    });
  },
);
