/**
 * (f) Scale (issue 10): pools of 1×, 4× and 16× the bench corpus (bench/lib/synthetic-pool.js:
 * copy 0 is the corpus, each further copy its paragraphs shuffled into new documents with new
 * ids), one `nextlong run` each (the built CLI, a child process):
 *   nextlong run --input <corpus> --pool <copy files> --out <fresh tmp> --sequences 20
 *     --target-tokens 131072 --concurrency 1 --quiet        (env NEXTLONG_INDEX_THREADS=1)
 * The same 20 meta-documents at every size (they come from --input, the pool only grows).
 * Throughput (table) = pool chunks indexed per second of the run's wall time; the note gives per
 * size the manifest's stage seconds, chunks/s of the embed and index stages, synth output
 * tokens/s, CPU seconds per stage and per process peak RSS (VmHWM) and peak RssAnon, split by
 * stage (phaseOf), and the ratios issue 10 asks for — from wall time and from CPU time (other
 * processes on the CPUs stretch the first, not the second). After the runs, each size's index is rebuilt from the run's own segments with
 * buildSegmentsIndex at each of BENCH_SCALE_THREADS (the build rate with 1 vs 2 threads), and
 * a transformer embedder's per-core cost is measured (bench/lib/encoder-rate.js) for docs/scale.md.
 *
 *   BENCH_SCALE=1,4,16              pool sizes (× the corpus; 16× ≈ 400 MB of JSONL in $BENCH_CACHE)
 *   BENCH_SCALE_SEQUENCES=20        --sequences
 *   BENCH_SCALE_TARGET=131072       --target-tokens
 *   BENCH_SCALE_CONCURRENCY=1       --concurrency
 *   BENCH_SCALE_THREADS=1,2         thread counts of the index rebuilds ('' skips them)
 *   BENCH_SCALE_ENCODER=1           0 skips the transformer measurement
 *   BENCH_SCALE_DIM=1024            the smallest pool rebuilt at this dimension (bench/lib/dim-probe.js); 0 skips
 *   BENCH_SCALE_ARGS=''             more `nextlong run` flags, space-separated (e.g. '--index-partition-chunks 16384')
 * Linux only (reads /proc).
 */
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsObjectStore } from '@nextlong/storage';
import { buildSegmentsIndex } from '@nextlong/vectors';
import { configDefault } from './lib/config-defaults.js';
import { buildAtDim } from './lib/dim-probe.js';
import { encoderRate } from './lib/encoder-rate.js';
import { watchTree } from './lib/proc-watch.js';
import { syntheticPool } from './lib/synthetic-pool.js';
import { env, list } from './lib/env.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'apps', 'cli', 'bin', 'nextlong.js');
const SIZES = list(env('BENCH_SCALE', '1,4,16'));
const SEQUENCES = Number(env('BENCH_SCALE_SEQUENCES', 20));
const TARGET = Number(env('BENCH_SCALE_TARGET', 131072));
const CONCURRENCY = Number(env('BENCH_SCALE_CONCURRENCY', 1));
const THREADS = list(env('BENCH_SCALE_THREADS', '1,2'));
const ENCODER = env('BENCH_SCALE_ENCODER', '1') !== '0';
const PROBE_DIM = Number(env('BENCH_SCALE_DIM', 1024));
const EXTRA_ARGS = env('BENCH_SCALE_ARGS', '').split(' ').filter(Boolean);

const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const mb = (kb) => `${f(kb / 1024, 0)} MB`;

/**
 * The stage a run in `out` is in, from its files: synth once the index stage's done marker exists,
 * index while the build's staging folder (index/.tmp-build-*) or the finished descriptor is there,
 * else plan + embed.
 */
function phaseOf(out) {
  const indexDir = path.join(out, 'index');
  return () => {
    if (existsSync(path.join(out, 'done', 'index'))) return 'synth';
    const names = existsSync(indexDir) ? readdirSync(indexDir) : [];
    return names.some((n) => n.startsWith('.tmp-build-') || n.endsWith('.json')) ? 'index' : 'embed';
  };
}

/** One CLI run in a fresh folder (kept until exit: the rebuilds read its segments). */
async function runCli(corpusFile, poolFiles, tmpRoot) {
  const out = mkdtempSync(path.join(tmpRoot, 'run-'));
  const args = [CLI, 'run', '--input', corpusFile, ...poolFiles.flatMap((p) => ['--pool', p]), '--out', out];
  args.push('--sequences', String(SEQUENCES), '--target-tokens', String(TARGET), '--concurrency', String(CONCURRENCY), '--quiet', ...EXTRA_ARGS);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NEXTLONG_INDEX_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const watch = watchTree(child.pid, { phase: phaseOf(out) });
  const load = os.loadavg()[0];
  const t0 = performance.now();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise((resolve, reject) => child.on('error', reject).on('close', resolve));
  const wall = (performance.now() - t0) / 1000;
  const procs = watch.stop();
  if (code !== 0) throw new Error(`nextlong ${args.slice(1).join(' ')} exited ${code}:\n${stderr}`);
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  return { out, manifest, wall, procs, load };
}

/** A numeric flag of BENCH_SCALE_ARGS, if given. */
function argValue(flag) {
  const i = EXTRA_ARGS.indexOf(flag);
  return i >= 0 ? Number(EXTRA_ARGS[i + 1]) : undefined;
}

/** The run's index settings (config defaults, or BENCH_SCALE_ARGS) with `threads` build threads. */
const buildOptions = (threads) => ({
  connectivity: configDefault('hnswConnectivity'),
  expansionAdd: configDefault('hnswExpansionAdd'),
  expansionSearch: configDefault('hnswExpansionSearch'),
  partitionChunks: argValue('--index-partition-chunks') ?? configDefault('indexPartitionChunks'),
  threads,
});

/** Index build time from a run's segments, hard-linked into a fresh store, with `threads` threads. */
async function rebuild(runOut, threads, tmpRoot) {
  const dir = mkdtempSync(path.join(tmpRoot, `rebuild-${threads}-`));
  const segDir = path.join(dir, 'index', 'segments');
  mkdirSync(segDir, { recursive: true });
  const from = path.join(runOut, 'index', 'segments');
  for (const name of readdirSync(from)) linkSync(path.join(from, name), path.join(segDir, name));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const built = await buildSegmentsIndex(new FsObjectStore(dir), buildOptions(threads));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  return { threads, chunks: built.chunks, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** Per-size derived numbers from a run's manifest and memory samples. */
function summarize(size, r) {
  const t = r.manifest.timings;
  const chunks = r.manifest.counts.chunks_indexed;
  const cli = r.procs[0];
  const synthProcs = r.procs.filter((p) => p.byPhase.synth);
  return {
    size,
    chunks,
    t,
    wall: r.wall,
    load: r.load,
    embedRate: chunks / t.embed_seconds,
    indexRate: chunks / t.index_seconds,
    tokens: r.manifest.counts.output_tokens,
    synthRate: r.manifest.counts.output_tokens / t.synth_seconds,
    indexShare: t.index_seconds / t.total_seconds,
    cliHwmKB: cli.hwmKB,
    synthRssKB: Math.max(...synthProcs.map((p) => p.byPhase.synth.rssKB)),
    synthAnonKB: Math.max(...synthProcs.map((p) => p.byPhase.synth.anonKB)),
    synthCpu: synthProcs.reduce((a, p) => a + p.byPhase.synth.cpuSeconds, 0),
    cpu: (phase) => r.procs.reduce((a, p) => a + (p.byPhase[phase]?.cpuSeconds ?? 0), 0),
    procs: r.procs,
  };
}

function notes(sums, rebuilds, encoder, dimProbe) {
  const lines = [];
  for (const s of sums) {
    const { t } = s;
    lines.push(
      `${s.size}×: ${s.chunks} chunks; wall ${f(s.wall)} s (load ${f(s.load)}); plan ${t.plan_seconds} + embed ${t.embed_seconds} + index ${t.index_seconds} + synth ${t.synth_seconds} s ` +
        `(total ${t.total_seconds}); embed ${f(s.embedRate, 0)} chunks/s, index ${f(s.indexRate, 0)} chunks/s (${f(100 * s.indexShare, 0)} % of the run), ` +
        `synth ${f(s.synthRate, 0)} tokens/s; CPU s: plan+embed ${f(s.cpu('embed'))}, index ${f(s.cpu('index'))}, synth ${f(s.synthCpu)} ` +
        `(per CPU s: embed ${f(s.chunks / s.cpu('embed'), 0)} chunks, index ${f(s.chunks / s.cpu('index'), 0)} chunks, synth ${f(s.tokens / s.synthCpu, 0)} output tokens); memory: ` +
        s.procs
          .filter((p) => p.hwmKB > 0)
          .map(
            (p) =>
              `${p.label} [${p.pid}] VmHWM ${mb(p.hwmKB)}, RssAnon peak ${mb(p.anonKB)}${p.byPhase.synth ? ` (during synth: RSS ${mb(p.byPhase.synth.rssKB)}, anon ${mb(p.byPhase.synth.anonKB)})` : ''}`,
          )
          .join('; '),
    );
  }
  for (const [size, rs] of rebuilds) {
    lines.push(
      `${size}× index rebuild (same segments, ${buildOptions(1).partitionChunks} chunks per partition): ` +
        rs
          .map((b) => `${b.threads} thread(s) ${f(b.seconds)} s wall / ${f(b.cpuSeconds)} s CPU = ${f(b.chunks / b.seconds, 0)} chunks/s`)
          .join('; '),
    );
  }
  const first = sums[0];
  const last = sums[sums.length - 1];
  if (sums.length > 1) {
    const r = (a, b) => f(a / b, 2);
    lines.push(
      `ratios ${last.size}× vs ${first.size}× (wall | CPU): index build rate ${r(last.indexRate, first.indexRate)} | ` +
        `${r(last.chunks / last.cpu('index'), first.chunks / first.cpu('index'))} (goal ≥ 0.7); ` +
        `synth peak RSS ${r(last.synthRssKB, first.synthRssKB)}, anon ${r(last.synthAnonKB, first.synthAnonKB)} (goal ≤ 1.15); ` +
        `synth tokens/s ${r(last.synthRate, first.synthRate)} | ${r(last.tokens / last.synthCpu, first.tokens / first.synthCpu)} (goal ≥ 0.9); ` +
        `embed chunks/s ${r(last.embedRate, first.embedRate)} | ${r(last.chunks / last.cpu('embed'), first.chunks / first.cpu('embed'))}; ` +
        `index stage ${f(100 * last.indexShare, 0)} % | ${f((100 * last.cpu('index')) / (last.cpu('embed') + last.cpu('index') + last.synthCpu), 0)} % of the ${last.size}× run (goal ≤ 25 %)`,
    );
  }
  const rb = rebuilds.get(last.size);
  const one = rb?.find((b) => b.threads === 1);
  const two = rb?.find((b) => b.threads === 2);
  if (one && two) lines.push(`${last.size}× index build, 2 threads vs 1: ${f(one.seconds / two.seconds, 2)}× (goal ≥ 1.7)`);
  if (dimProbe) {
    const base = rebuilds.get(first.size)?.find((b) => b.threads === 1);
    lines.push(
      `${first.size}× index rebuild at dim ${dimProbe.dim} (random projection, 1 thread): ${f(dimProbe.seconds)} s wall / ${f(dimProbe.cpuSeconds)} s CPU = ` +
        `${f(dimProbe.chunks / dimProbe.cpuSeconds, 0)} chunks per CPU s` +
        (base
          ? ` vs ${f(base.chunks / base.cpuSeconds, 0)} at the model's dim (${f(base.cpuSeconds > 0 ? dimProbe.cpuSeconds / base.cpuSeconds : NaN, 1)}× the CPU)`
          : ''),
    );
  }
  if (encoder) {
    const e = encoder;
    lines.push(
      `transformer per core (random-weight encoder of jina-v3 / XLM-R-large shape, 512-token chunks, batch ${e.batch}, 1 thread; ` +
        `depths ${e.depths.join(' and ')} timed, extrapolated to ${e.shape.layers}): ${f(e.chunkSeconds.cpu, 2)} CPU s per chunk ` +
        `(${f(3600 / e.chunkSeconds.cpu, 0)} chunks per core-hour; ${f(e.perLayerSeconds.cpu, 3)} CPU s per layer; wall ${f(e.chunkSeconds.wall, 2)} s)`,
    );
  }
  return lines.join('\n');
}

export default async function scaleBench({ corpus }) {
  if (!existsSync(path.join(root, 'apps', 'cli', 'dist'))) throw new Error('scale bench: apps/cli is not built: run `npm run build` first');
  const c = await corpus();
  const corpusFile = path.resolve(c.file);
  const pool = syntheticPool(c, Math.max(...SIZES));
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'nextlong-bench-scale-'));
  process.once('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));
  const runs = new Map();
  const rebuilds = new Map();
  let encoder;
  let dimProbe;
  const cases = SIZES.map((size, i) => ({
    name: `${size}× pool: nextlong run, ${SEQUENCES} sequences`,
    unit: 'chunks',
    baseline: i === 0,
    run: async () => {
      const r = await runCli(corpusFile, pool.slice(0, size), tmpRoot);
      runs.set(size, r);
      return r.manifest.counts.chunks_indexed;
    },
  }));
  return {
    title: `scale: nextlong run on 1×..${Math.max(...SIZES)}× pools, T = ${TARGET}, --concurrency ${CONCURRENCY} — pool chunks/s of the whole run`,
    runs: 1,
    warmup: 0,
    cases,
    after: async () => {
      for (const size of SIZES) {
        const rs = [];
        for (const threads of THREADS) rs.push(await rebuild(runs.get(size).out, threads, tmpRoot));
        rebuilds.set(size, rs);
      }
      if (PROBE_DIM) {
        const first = runs.get(SIZES[0]).out;
        dimProbe = await buildAtDim(
          path.join(first, 'index', 'segments'),
          mkdtempSync(path.join(tmpRoot, 'dim-')),
          PROBE_DIM,
          buildOptions(1),
        );
      }
      for (const size of SIZES) rmSync(runs.get(size).out, { recursive: true, force: true });
      if (ENCODER) encoder = await encoderRate();
    },
    get note() {
      const sums = SIZES.filter((s) => runs.has(s)).map((s) => summarize(s, runs.get(s)));
      return `${os.availableParallelism()} CPUs; memory sampled every 100 ms from /proc\n${notes(sums, rebuilds, encoder, dimProbe)}`;
    },
  };
}
