/**
 * (f) The fleet on one machine against the local executor, on the same corpus:
 *
 * 1. Throughput (the table run.js prints): the demo corpus (demo/corpus, local files) at
 *    T = 131072 with --sequences N (BENCH_FLEET_SEQUENCES, default 40), a fresh local output
 *    folder per run, output tokens (manifest counts.output_tokens) per second of wall time,
 *    node start-up included.
 *      baseline: nextlong run --input demo/corpus --out <tmp> --sequences N --target-tokens 131072 --quiet
 *                (default concurrency = one shard process per core)
 *      fleet:    our own redis-server (startRedis from packages/testing, never the machine's 6379),
 *                one embed worker and two synth workers (`nextlong worker --stage embed|synth`),
 *                started and ready BEFORE timing and kept across runs; each run times
 *                nextlong coordinator --redis <url> --input demo/corpus --out <tmp> ... --metrics off
 *                until it exits 0. Goal: ≥ 0.9 of the baseline.
 * 2. Queue overhead per job (a table this file prints itself, with its own baseline): on the
 *    same redis, separate queues (nextlong-bench-noop-*), `Queue.addBulk` of BENCH_FLEET_NOOP_JOBS
 *    (2000) no-op jobs with the fleet's DEFAULT_JOB_OPTIONS, drained by a `Worker` of
 *    concurrency 1 and 16 that does nothing (enqueue → last completed), and a sequential
 *    add → completed round trip (BENCH_FLEET_NOOP_SERIAL jobs, 200: the latency an idle fleet
 *    adds to a shard). Baseline: an in-process async loop over the same count.
 * 3. Stalled jobs: after the fleet runs, each worker's /metrics is scraped and
 *    nextlong_jobs_stalled_total and nextlong_shard_retries_total are summed (goal 0; in the note).
 *    After each fleet run the workers' nextlong_shard_seconds_sum is read too: the note gives,
 *    per stage, the stage's wall time minus the busiest worker's shard seconds — what the queue,
 *    the coordinator's barrier poll and job pick-up add to a stage.
 *
 * Everything started here (redis-server, workers, coordinators, temp folders) is stopped and
 * removed at the end (overlapping the last local run, so no timed run includes it), on a
 * failure, on SIGINT and, as a last resort, at exit. Workers get SIGTERM and must exit 0 (the
 * note says if one did not). The output sequences of both cases are hashed and compared.
 * --runs (default 3, 1 warm-up run per case). BENCH_FLEET_TIMEOUT_S (600): the most one
 * coordinator or local run may take. Linux only for CPU seconds (reads /proc).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuOf, digestOf, metricByLabel, rssMB, scrapedNote } from './lib/fleet-support.js';
import { median, printTable } from './lib/harness.js';
import { queueOverhead } from './lib/queue-overhead.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'apps', 'cli', 'bin', 'nextlong.js');
const CORPUS = 'demo/corpus'; // relative to root: workers run with cwd = root, as the coordinator does
const TARGET = 131072;
const SEQUENCES = Number(process.env.BENCH_FLEET_SEQUENCES || 40);
const TIMEOUT_MS = 1000 * Number(process.env.BENCH_FLEET_TIMEOUT_S || 600);
const WORKER_EXIT_MS = 40_000; // the worker's default grace is 25 s; idle workers exit at once
const GNU_TIME = '/usr/bin/time';

const dist = (pkg) => pathToFileURL(path.join(root, 'packages', pkg, 'dist', 'index.js')).href;

export default async function fleetBench(ctx) {
  if (!existsSync(path.join(root, 'apps', 'cli', 'dist')) || !existsSync(path.join(root, 'packages', 'fleet', 'dist'))) {
    throw new Error('fleet bench: the CLI or packages/fleet is not built: run `npm run build` first');
  }
  const { startRedis, freePort } = await import(dist('testing'));
  const { DEFAULT_JOB_OPTIONS } = await import(dist('fleet'));

  // ---- everything we start, for the clean-up ---------------------------------------------
  const tmpDirs = new Set();
  const children = new Set(); // live ChildProcess objects (workers, coordinators, local runs)
  let redis;
  let redisPid;
  const workers = [];
  let tornDown;
  const workerExits = [];
  const scraped = [];

  const freshTmp = (tag) => {
    const d = mkdtempSync(path.join(os.tmpdir(), `nextlong-bench-fleet-${tag}-`));
    tmpDirs.add(d);
    return d;
  };
  const dropTmp = (d) => {
    rmSync(d, { recursive: true, force: true });
    tmpDirs.delete(d);
  };

  /** Last resort (process exit, sync only): SIGKILL what is left, remove temp folders. */
  const onExit = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (redisPid) {
      try {
        process.kill(redisPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  };
  const onSigint = () => {
    process.stderr.write('fleet bench: interrupted, cleaning up\n');
    release().finally(() => process.exit(130));
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSigint);

  /** Each live worker's /metrics text (or the error). */
  const scrapeWorkers = () =>
    Promise.all(
      workers
        .filter((w) => w.exited === undefined)
        .map(async (w) => {
          try {
            const text = await (await fetch(`http://127.0.0.1:${w.port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
            return { name: w.name, w, text };
          } catch (err) {
            return { name: w.name, w, error: err.message };
          }
        }),
    );
  let teardownSeconds;

  /** Stops the workers (SIGTERM, must exit 0; their metrics are scraped first) and redis. */
  async function teardown() {
    tornDown ??= (async () => {
      const t0 = performance.now();
      if (scraped.length === 0) scraped.push(...(await scrapeWorkers()));
      await Promise.all(
        workers.map(async (w) => {
          if (w.exited) return workerExits.push(`${w.name} had already exited (${w.exited}) — ${w.tail().slice(-300)}`);
          w.p.kill('SIGTERM');
          const code = await Promise.race([w.exit, new Promise((r) => setTimeout(() => r('timeout'), WORKER_EXIT_MS))]);
          if (code === 'timeout') {
            w.p.kill('SIGKILL');
            workerExits.push(`${w.name} did not exit within ${WORKER_EXIT_MS / 1000} s of SIGTERM (killed)`);
          } else if (code !== 0) workerExits.push(`${w.name} exited ${code} after SIGTERM — ${w.tail().slice(-300)}`);
        }),
      );
      if (redis) await redis.stop().catch(() => {});
      redisPid = undefined;
      teardownSeconds = (performance.now() - t0) / 1000;
    })();
    return tornDown;
  }

  /** The end (or a failure): the fleet down, then whatever is left killed and removed. */
  async function release() {
    await teardown();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of [...tmpDirs]) dropTmp(d);
    process.off('exit', onExit);
    process.off('SIGINT', onSigint);
  }

  /** Spawns the CLI; resolves { code, log, wall, cpu } when it exits (or rejects on timeout). */
  function runCli(args, tag) {
    const useTime = existsSync(GNU_TIME);
    const timeFile = useTime ? path.join(freshTmp(`time-${tag}`), 'time.txt') : undefined;
    const argv = [CLI, ...args];
    const t0 = performance.now();
    const p = useTime
      ? spawn(GNU_TIME, ['-f', '%U %S', '-o', timeFile, process.execPath, ...argv], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(p);
    let log = '';
    p.stderr.on('data', (d) => (log = (log + d).slice(-6000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new Error(`nextlong ${args[0]} did not finish within ${TIMEOUT_MS / 1000} s:\n${log}`));
      }, TIMEOUT_MS);
      p.on('error', reject);
      p.on('close', (code) => {
        clearTimeout(timer);
        children.delete(p);
        const wall = (performance.now() - t0) / 1000;
        let cpu;
        if (timeFile) {
          try {
            const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
            cpu = u + s;
          } catch {
            // time did not write (killed)
          }
          dropTmp(path.dirname(timeFile));
        }
        resolve({ code, log, wall, cpu });
      });
    });
  }

  // ---- 2. queue overhead, on our own redis ------------------------------------------------
  let queueResult;
  const fleetRuns = { local: [], fleet: [] };
  /** worker name → stage → nextlong_shard_seconds_sum, at the end of the last fleet run. */
  let lastShardSums;
  const shardSums = (scrapes) =>
    new Map(scrapes.filter((x) => x.text).map((x) => [x.name, metricByLabel(x.text, 'nextlong_shard_seconds_sum', 'stage')]));
  try {
    redis = await startRedis();
    // its pid, for the exit-time SIGKILL: our child redis-server listening on this port
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid && cmd[0].includes('redis-server') && cmd.includes(String(redis.port))) redisPid = Number(d);
      } catch {
        // exited meanwhile
      }
    }
    queueResult = await queueOverhead(redis.url, DEFAULT_JOB_OPTIONS, ctx.runs);
    printTable(queueResult.result);

    // ---- 1. the fleet: start the workers warm ---------------------------------------------
    const startWorker = async (stage, i) => {
      const port = await freePort();
      const args = ['worker', '--stage', stage, '--redis', redis.url, '--metrics', `127.0.0.1:${port}`];
      const p = spawn(process.execPath, [CLI, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(p);
      let log = '';
      const onData = (d) => (log = (log + d).slice(-20000));
      p.stdout.on('data', onData);
      p.stderr.on('data', onData);
      const w = { name: `${stage} worker ${i}`, stage, port, p, exited: undefined, tail: () => log, cpu0: 0 };
      w.exit = new Promise((r) =>
        p.once('exit', (code, sig) => {
          w.exited = code ?? sig;
          children.delete(p);
          r(code ?? sig);
        }),
      );
      workers.push(w);
      return w;
    };
    await Promise.all([startWorker('embed', 1), startWorker('synth', 1), startWorker('synth', 2)]);
    const deadline = Date.now() + 30_000;
    for (const w of workers) {
      for (;;) {
        if (w.exited !== undefined) throw new Error(`${w.name} exited ${w.exited} at start:\n${w.tail()}`);
        const ok = await fetch(`http://127.0.0.1:${w.port}/readyz`)
          .then((r) => r.status === 200)
          .catch(() => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`${w.name} not ready within 30 s:\n${w.tail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    lastShardSums = shardSums(await scrapeWorkers());
  } catch (err) {
    await release();
    throw err;
  }

  // ---- the throughput cases ---------------------------------------------------------------
  const runs = ctx.runs ?? 3;
  const warmup = 1;
  const calls = { local: 0, fleet: 0 };
  const digests = { local: new Set(), fleet: new Set() };
  const flags = ['--input', CORPUS, '--sequences', String(SEQUENCES), '--target-tokens', String(TARGET), '--quiet'];

  const oneRun = async (kind) => {
    const tmp = freshTmp(kind);
    const out = path.join(tmp, 'out');
    const load = os.loadavg()[0];
    try {
      let r;
      if (kind === 'local') r = await runCli(['run', ...flags, '--out', out], kind);
      else {
        for (const w of workers) w.cpu0 = cpuOf(w.p.pid);
        const dead = workers.find((w) => w.exited !== undefined);
        if (dead) throw new Error(`${dead.name} exited ${dead.exited}:\n${dead.tail()}`);
        // a worker that dies mid-run would leave the coordinator waiting: fail fast instead
        let onDeath;
        const death = new Promise((_, reject) => {
          onDeath = (w) => reject(new Error(`${w.name} exited ${w.exited} during a fleet run:\n${w.tail()}`));
          for (const w of workers) w.exit.then(() => onDeath?.(w));
        });
        try {
          r = await Promise.race([runCli(['coordinator', '--redis', redis.url, ...flags, '--out', out, '--metrics', 'off'], kind), death]);
        } finally {
          onDeath = undefined;
          death.catch(() => {});
        }
        r.workerCpu = workers.reduce((s, w) => s + (cpuOf(w.p.pid) - w.cpu0), 0);
        // shard seconds each worker spent per stage in this run (a few ms of localhost HTTP)
        const sums = shardSums(await scrapeWorkers());
        r.busy = {};
        for (const [name, byStage] of sums) {
          for (const [stage, v] of Object.entries(byStage)) {
            const d = v - (lastShardSums?.get(name)?.[stage] ?? 0);
            r.busy[stage] = Math.max(r.busy[stage] ?? 0, d); // the busiest worker of the stage
          }
        }
        lastShardSums = sums;
        r.rss = workers.map((w) => rssMB(w.p.pid));
      }
      if (r.code !== 0) throw new Error(`nextlong ${kind === 'local' ? 'run' : 'coordinator'} exited ${r.code}:\n${r.log}`);
      const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      digests[kind].add(digestOf(out));
      fleetRuns[kind].push({ ...r, manifest, load });
      return manifest.counts.output_tokens;
    } finally {
      dropTmp(tmp);
    }
  };

  const makeCase = (kind, name, more) => ({
    name,
    unit: 'tokens',
    ...more,
    run: async () => {
      calls[kind]++;
      const last = calls[kind] === warmup + runs;
      try {
        return await oneRun(kind);
      } catch (err) {
        await release();
        throw err;
      } finally {
        // The harness calls the cases in order each round, so the fleet's last run comes before
        // the local one's: the fleet's counters are read now (ms), its shut-down goes on in the
        // background during the last local run (idle workers exit in well under a second) and
        // that run waits for it at its end, so no timed run includes the clean-up.
        if (last && kind === 'fleet') {
          scraped.push(...(await scrapeWorkers()));
          teardown().catch(() => {});
        }
        if (last && kind === 'local') await release();
      }
    },
  });
  const lanes = os.availableParallelism();
  // fleet first: see the clean-up in makeCase
  const cases = [
    makeCase('fleet', 'fleet: coordinator + 1 embed + 2 synth workers', { goal: 0.9 }),
    makeCase('local', `nextlong run (default concurrency ${lanes})`, { baseline: true }),
  ];

  return {
    title: `fleet on one machine vs local executor: demo/, T = ${TARGET}, ${SEQUENCES} sequences — output tokens/s`,
    runs,
    warmup,
    cases,
    get note() {
      const lines = [`${lanes} CPUs; our redis-server on ${redis?.url ?? '-'}; 1 warm-up run per case; fresh local --out per run`];
      for (const [kind, rs] of Object.entries(fleetRuns)) {
        const timed = rs.slice(warmup);
        if (timed.length === 0) {
          lines.push(`${kind}: no timed runs`);
          continue;
        }
        const m = timed[timed.length - 1].manifest;
        const stage = (k) => median(timed.map((r) => r.manifest.timings[k] ?? 0)).toFixed(1);
        const cpu = timed[0].cpu === undefined ? '-' : median(timed.map((r) => r.cpu + (r.workerCpu ?? 0))).toFixed(1);
        const busy =
          kind === 'fleet'
            ? ['embed', 'index', 'synth']
                .map((st) => {
                  const over = median(timed.map((r) => (r.manifest.timings[`${st}_seconds`] ?? 0) - (r.busy?.[st] ?? 0)));
                  return `${st} ${over.toFixed(2)} s`;
                })
                .join(', ')
            : undefined;
        lines.push(
          `${kind}: warm-up run ${rs[0].wall.toFixed(1)} s; median wall ${median(timed.map((r) => r.wall)).toFixed(1)} s, ${m.counts.sequences_written} seqs; manifest total ` +
            `${stage('total_seconds')} s = plan ${stage('plan_seconds')} + embed ${stage('embed_seconds')} + index ${stage('index_seconds')} + ` +
            `synth ${stage('synth_seconds')}; CPU ${cpu} s${kind === 'fleet' ? ' (coordinator + workers)' : ''}; ` +
            `load at start ${timed.map((r) => r.load.toFixed(1)).join('/')}`,
        );
        if (busy) lines.push(`fleet stage wall − busiest worker's shard seconds (queue, barrier poll, job pick-up), median: ${busy}`);
      }
      const same = digests.local.size === 1 && digests.fleet.size === 1 && [...digests.local][0] === [...digests.fleet][0];
      lines.push(
        `outputs: ${same ? 'fleet sequences byte-identical to local' : `DIFFER — local ${[...digests.local].join(',')} fleet ${[...digests.fleet].join(',')}`}`,
      );
      if (scraped.length) {
        lines.push(...scrapedNote(scraped));
        lines.push(
          `worker RSS after each fleet run (warm-up first): ${workers
            .map((w, i) => `${w.name} ${fleetRuns.fleet.map((r) => r.rss?.[i]?.toFixed(0) ?? '-').join('/')} MB`)
            .join('; ')}`,
        );
      }
      lines.push(
        `workers after SIGTERM: ${workerExits.length ? workerExits.join('; ') : 'all exited 0'}` +
          (teardownSeconds === undefined ? '' : ` (clean-up ${teardownSeconds.toFixed(2)} s, overlapping the last local run)`),
      );
      if (queueResult) lines.push(queueResult.summary());
      return lines.join('\n');
    },
  };
}
