/**
 * (e) End to end: the built CLI on the demo corpus, T = 131072 —
 *   node apps/cli/bin/nextlong.js run --config demo/nextlong.yaml --out <fresh tmp> --sequences 60 --quiet
 * as a child process (a fresh output folder per run, so nothing resumes). Throughput is output
 * tokens (manifest counts.output_tokens) per second of the child's wall time, node start-up
 * included; the note adds sequences/min, the manifest's own total_seconds and memory:
 *   - parent: the CLI process's peak RSS (its VmHWM, sampled every 100 ms);
 *   - shard:  each shard process's peak RSS (its VmHWM, last sample before it exits), the
 *             largest and the count of shard processes;
 *   - tree:   the peak over samples of the summed VmRSS of the CLI and all its descendants
 *             (the forked shard processes), sampled every 100 ms from /proc;
 *   - time %M: GNU time's max RSS, which Linux reports as the largest single process of the
 *             tree (the CLI or one shard process), not the sum.
 * Other processes may share the CPUs: the note also gives the tree's CPU seconds (GNU time
 * %U + %S, children included) and the 1-minute load average when each run started.
 * Baseline: the same run with --concurrency 1 (everything in the CLI process); the other case
 * runs --concurrency 2 (the CLI process and one shard process), so the ratio is the local
 * executor's scaling (goal 1.7).
 *
 * Scale with BENCH_E2E_SEQUENCES=<n> (default 60), BENCH_E2E_CONCURRENCY=<n> (default 2),
 * BENCH_E2E_TARGET=<tokens> (default: the config's 131072) and --runs (default 3, no
 * warm-up). Linux only (reads /proc).
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
const CONCURRENCY = Number(process.env.BENCH_E2E_CONCURRENCY || 2);
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

/** CPU seconds (user + system, all threads) of a process so far, or 0 when it is gone; Linux ticks are 1/100 s. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
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
  const shardKB = new Map(); // shard process pid → its VmHWM
  const cpu = new Map(); // CLI or shard process pid → its CPU seconds at the last sample
  const sample = () => {
    const { out: tree, children } = descendants(child.pid);
    if (cliPid === undefined) cliPid = children.get(child.pid)?.[0];
    const pids = useTime ? tree : [child.pid, ...tree];
    const sum = pids.reduce((s, p) => s + statusKB(p, 'VmRSS'), 0);
    treeKB = Math.max(treeKB, sum);
    if (cliPid !== undefined) parentKB = Math.max(parentKB, statusKB(cliPid, 'VmHWM'), statusKB(cliPid, 'VmRSS'));
    for (const p of pids) {
      cpu.set(p, Math.max(cpu.get(p) ?? 0, cpuSeconds(p)));
      if (p !== cliPid && p !== child.pid) shardKB.set(p, Math.max(shardKB.get(p) ?? 0, statusKB(p, 'VmHWM')));
    }
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
        const shardCpu = [...shardKB.keys()].map((p) => cpu.get(p) ?? 0);
        resolve({
          manifest,
          parentKB,
          treeKB,
          shardKB: [...shardKB.values()],
          parentCpu: cpu.get(cliPid) ?? 0,
          shardCpu,
          timeKB,
          cpu: useTime ? user + sys : undefined,
          load,
        });
      } catch (err) {
        reject(err);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}

const mb = (kb) => (kb === undefined ? '-' : `${(kb / 1024).toFixed(0)} MB`);

const spread = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

/** "shard processes 1 × max 512 MB, " over runs: the most shard processes of a run, the largest VmHWM. */
function shards(rs) {
  const n = Math.max(...rs.map((r) => r.shardKB.length));
  return n === 0 ? '' : `shard processes ${n} × max ${mb(Math.max(...rs.flatMap((r) => r.shardKB)))}, `;
}

/**
 * What the CPUs would allow if no other process shared them: a run on dedicated cores takes
 * about its busiest process's CPU time (less where its threads overlap), so baseline CPU ÷ that
 * estimates the speed-up without the noise of a shared machine.
 */
function cpuBound([base, other]) {
  if (!base?.length || !other?.length) return '';
  const busiest = median(other.map((r) => Math.max(r.parentCpu, ...r.shardCpu)));
  const one = median(base.map((r) => r.parentCpu));
  return `CPU-time estimate on dedicated cores: ${one.toFixed(1)} s ÷ busiest process ${busiest.toFixed(1)} s = ${(one / busiest).toFixed(2)}×`;
}

/**
 * The most the lanes can give (Amdahl): only the embed and synth stages are split over shards;
 * start-up, plan, the index stage (one build) and the manifest are one process's work whatever
 * --concurrency is. From the baseline's own run: wall ÷ (serial + parallel ÷ N), with no
 * duplicated work and N whole cores.
 */
function amdahl(base, n) {
  if (!base?.length) return '';
  const wall = median(base.map((r) => r.wall));
  const parallel = median(base.map((r) => r.manifest.timings.embed_seconds + r.manifest.timings.synth_seconds));
  const serial = wall - parallel;
  return `bound for --concurrency ${n} (Amdahl, from the baseline: ${serial.toFixed(1)} s serial — start-up, plan, index, manifest — + ${parallel.toFixed(1)} s of embed and synth split ${n} ways): ${(wall / (serial + parallel / n)).toFixed(2)}×`;
}

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
  const cases = [
    makeCase('--concurrency 1 (in-process)', ['--concurrency', '1'], { baseline: true }),
    makeCase(`--concurrency ${CONCURRENCY}`, ['--concurrency', String(CONCURRENCY)], CONCURRENCY === 2 ? { goal: 1.7 } : {}),
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
          `${c.name}: ${((seqs * 60) / wall).toFixed(1)} sequences/min (${seqs} seqs, median wall ${wall.toFixed(1)} s, min–max ${spread(rs.map((r) => r.wall))} s; ` +
          `manifest total ${t.toFixed(1)} s = plan ${stage('plan_seconds')} + embed ${stage('embed_seconds')} + index ${stage('index_seconds')} + synth ${stage('synth_seconds')}); ` +
          `peak RSS parent ${mb(Math.max(...rs.map((r) => r.parentKB)))}, ${shards(rs)}tree ${mb(Math.max(...rs.map((r) => r.treeKB)))}, ` +
          `time %M ${mb(rs[0].timeKB === undefined ? undefined : Math.max(...rs.map((r) => r.timeKB)))}; ` +
          `CPU ${rs[0].cpu === undefined ? '-' : `${median(rs.map((r) => r.cpu)).toFixed(1)} s (min–max ${spread(rs.map((r) => r.cpu))})`}, ` +
          `CPU by process: CLI ${median(rs.map((r) => r.parentCpu)).toFixed(1)} s${rs[0].shardCpu.length ? `, shard processes ${rs[0].shardCpu.map((_, i) => median(rs.map((r) => r.shardCpu[i] ?? 0)).toFixed(1)).join(' + ')} s` : ''}; ` +
          `load at start ${rs.map((r) => r.load.toFixed(1)).join('/')}`
        );
      });
      return `${os.availableParallelism()} CPUs; memory = max over runs, sampled every ${SAMPLE_MS} ms\n${lines.join('\n')}\n${cpuBound(cases.map((c) => stats.get(c)))}\n${amdahl(stats.get(cases[0]), CONCURRENCY)}`;
    },
  };
  return bench;
}
