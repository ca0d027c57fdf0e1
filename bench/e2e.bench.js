/**
 * (e) End to end: the built CLI on the demo corpus, T = 131072 —
 *   node apps/cli/bin/nextlong.js run --config demo/nextlong.yaml --out <fresh tmp> --sequences 60 --quiet
 * as a child process (a fresh output folder per run, so nothing resumes). Throughput is output
 * tokens (manifest counts.output_tokens) per second of the child's wall time, node start-up
 * included; the note adds sequences/min, the manifest's own total_seconds and memory:
 *   - parent: the CLI process's peak RSS (its VmHWM, sampled every 100 ms);
 *   - tree:   the peak over samples of the summed VmRSS of the CLI and all its descendants
 *             (the forked shard processes), sampled every 100 ms from /proc;
 *   - time %M: GNU time's max RSS, which Linux reports as the largest single process of the
 *             tree (the CLI or one shard process), not the sum.
 * Other processes may share the CPUs: the note also gives the tree's CPU seconds (GNU time
 * %U + %S, children included) and the 1-minute load average when each run started.
 * Baseline: the same run with --concurrency 1 (everything in the CLI process); the other case
 * uses the default concurrency (one shard process per core), so the ratio is the local
 * executor's scaling.
 *
 * Scale with BENCH_E2E_SEQUENCES=<n> (default 60), BENCH_E2E_CONCURRENCY=<n> (default: the
 * CLI's default, = cores), BENCH_E2E_TARGET=<tokens> (default: the config's 131072) and
 * --runs (default 3, no warm-up). Linux only (reads /proc).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/harness.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'apps', 'cli', 'bin', 'nextlong.js');
const CONFIG = path.join(root, 'demo', 'nextlong.yaml');
const SEQUENCES = Number(process.env.BENCH_E2E_SEQUENCES || 60);
const CONCURRENCY = process.env.BENCH_E2E_CONCURRENCY;
const TARGET = process.env.BENCH_E2E_TARGET;
const GNU_TIME = '/usr/bin/time';
const SAMPLE_MS = 100;

/** pid → parent pid of every process now running. */
function parentMap() {
  const ppid = new Map();
  for (const d of readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      ppid.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  return ppid;
}

/** kB value of a /proc/<pid>/status field, or 0 when the process is gone. */
function statusKB(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The descendants of `pid` (not `pid` itself). */
function descendants(pid) {
  const children = new Map();
  for (const [p, pp] of parentMap()) {
    if (!children.has(pp)) children.set(pp, []);
    children.get(pp).push(p);
  }
  const out = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return { out, children };
}

/** One CLI run in a fresh folder; resolves to the manifest and memory peaks. */
function runCli(extraArgs) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'nextlong-bench-e2e-'));
  const out = path.join(tmp, 'out');
  const timeFile = path.join(tmp, 'time.txt');
  const args = [CLI, 'run', '--config', CONFIG, '--out', out, '--sequences', String(SEQUENCES), '--quiet', ...extraArgs];
  if (TARGET) args.push('--target-tokens', TARGET);
  const useTime = existsSync(GNU_TIME);
  const child = useTime
    ? spawn(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const load = os.loadavg()[0];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let cliPid = useTime ? undefined : child.pid;
  let parentKB = 0;
  let treeKB = 0;
  const sample = () => {
    const { out: tree, children } = descendants(child.pid);
    if (cliPid === undefined) cliPid = children.get(child.pid)?.[0];
    const pids = useTime ? tree : [child.pid, ...tree];
    const sum = pids.reduce((s, p) => s + statusKB(p, 'VmRSS'), 0);
    treeKB = Math.max(treeKB, sum);
    if (cliPid !== undefined) parentKB = Math.max(parentKB, statusKB(cliPid, 'VmHWM'), statusKB(cliPid, 'VmRSS'));
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      try {
        if (code !== 0) throw new Error(`nextlong ${args.slice(1).join(' ')} exited ${code}:\n${stderr}`);
        const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
        const [timeKB, user, sys] = useTime ? readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [];
        resolve({ manifest, parentKB, treeKB, timeKB, cpu: useTime ? user + sys : undefined, load });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}

const mb = (kb) => (kb === undefined ? '-' : `${(kb / 1024).toFixed(0)} MB`);

export default async function e2eBench() {
  if (!existsSync(CLI) || !existsSync(path.join(root, 'apps', 'cli', 'dist'))) {
    throw new Error('e2e bench: apps/cli is not built: run `npm run build` first');
  }
  const stats = new Map();
  const makeCase = (name, extra, more) => {
    const runs = [];
    const c = {
      name,
      unit: 'tokens',
      ...more,
      run: async () => {
        const t0 = performance.now();
        const r = await runCli(extra);
        r.wall = (performance.now() - t0) / 1000;
        runs.push(r);
        return r.manifest.counts.output_tokens;
      },
    };
    stats.set(c, runs);
    return c;
  };
  const defaultLanes = CONCURRENCY ? Number(CONCURRENCY) : os.availableParallelism();
  const cases = [
    makeCase('--concurrency 1 (in-process)', ['--concurrency', '1'], { baseline: true }),
    makeCase(
      `--concurrency ${defaultLanes}${CONCURRENCY ? '' : ' (default = cores)'}`,
      CONCURRENCY ? ['--concurrency', CONCURRENCY] : [],
      {},
    ),
  ];
  const bench = {
    title: `end to end: CLI run on demo/, T = ${TARGET ?? 131072}, ${SEQUENCES} sequences — output tokens/s`,
    runs: 3,
    warmup: 0,
    cases,
    // read by the harness after the runs: per-case medians and memory peaks
    get note() {
      const lines = cases.map((c) => {
        const rs = stats.get(c);
        if (rs.length === 0) return `${c.name}: no runs`;
        const m = rs[rs.length - 1].manifest;
        const wall = median(rs.map((r) => r.wall));
        const seqs = m.counts.sequences_written;
        const t = median(rs.map((r) => r.manifest.timings.total_seconds));
        const stage = (k) => median(rs.map((r) => r.manifest.timings[k] ?? 0)).toFixed(1);
        return (
          `${c.name}: ${((seqs * 60) / wall).toFixed(1)} sequences/min (${seqs} seqs, median wall ${wall.toFixed(1)} s; ` +
          `manifest total ${t.toFixed(1)} s = plan ${stage('plan_seconds')} + embed ${stage('embed_seconds')} + index ${stage('index_seconds')} + synth ${stage('synth_seconds')}); ` +
          `peak RSS parent ${mb(Math.max(...rs.map((r) => r.parentKB)))}, tree ${mb(Math.max(...rs.map((r) => r.treeKB)))}, ` +
          `time %M ${mb(rs[0].timeKB === undefined ? undefined : Math.max(...rs.map((r) => r.timeKB)))}; ` +
          `CPU ${rs[0].cpu === undefined ? '-' : `${median(rs.map((r) => r.cpu)).toFixed(1)} s`}, ` +
          `load at start ${rs.map((r) => r.load.toFixed(1)).join('/')}`
        );
      });
      return `${os.availableParallelism()} CPUs; memory = max over runs, sampled every ${SAMPLE_MS} ms\n${lines.join('\n')}`;
    },
  };
  return bench;
}
