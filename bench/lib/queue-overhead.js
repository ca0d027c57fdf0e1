/**
 * Fleet queue overhead (a table of its own, with its own baseline): on the bench's redis, separate
 * queues (nextlong-bench-noop-*), `Queue.addBulk` of BENCH_FLEET_NOOP_JOBS (2000) no-op jobs with the
 * fleet's DEFAULT_JOB_OPTIONS, drained by a `Worker` of concurrency 1 and 16 that does nothing
 * (enqueue → last completed), and a sequential add → completed round trip (BENCH_FLEET_NOOP_SERIAL
 * jobs, 200: the latency an idle fleet adds to a shard). Baseline: an in-process async loop.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { measure, median } from './harness.js';

const NOOP_JOBS = Number(process.env.BENCH_FLEET_NOOP_JOBS || 2000);
const NOOP_SERIAL = Number(process.env.BENCH_FLEET_NOOP_SERIAL || 200);
const NOOP_PREFIX = 'nextlong-bench-noop';

/**
 * Queue overhead: no-op jobs through BullMQ on `redisUrl` against an in-process loop. Runs and
 * prints its own table (run.js prints one per bench file); returns it with a one-line summary.
 */
export async function queueOverhead(redisUrl, jobOptions, runsOverride) {
  const conns = [];
  const connect = () => {
    const c = new Redis(redisUrl, { maxRetriesPerRequest: null });
    conns.push(c);
    return c;
  };
  const queueConn = connect();
  const queues = [];
  const bullWorkers = [];
  const stats = new Map();
  let seq = 0;

  /** A queue + no-op worker pair; `drain(n)` enqueues n jobs with addBulk and waits for all. */
  const pair = (suffix, concurrency) => {
    const name = `${NOOP_PREFIX}-${suffix}`;
    const queue = new Queue(name, { connection: queueConn });
    queues.push(queue);
    const waiting = new Map(); // job id → resolve
    let remaining = 0;
    let allDone;
    const worker = new Worker(name, async () => undefined, { connection: connect(), concurrency, autorun: true });
    bullWorkers.push(worker);
    worker.on('completed', (job) => {
      const r = waiting.get(job.id);
      if (r) {
        waiting.delete(job.id);
        r(performance.now());
      }
      if (--remaining === 0) allDone?.();
    });
    worker.on('failed', (job, err) => process.stderr.write(`noop job ${job?.id} failed: ${err.message}\n`));
    return { name, queue, worker, waiting, setRemaining: (n, done) => ((remaining = n), (allDone = done)) };
  };
  const batch = (q, n) => async () => {
    const run = ++seq;
    const t0 = performance.now();
    const done = new Promise((r) => q.setRemaining(n, r));
    await q.queue.addBulk(
      Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i }, opts: { ...jobOptions, jobId: `r${run}-${i}` } })),
    );
    const tAdd = performance.now() - t0;
    await done;
    const total = performance.now() - t0;
    stats.get(q.name).push({ add: tAdd, total });
    return n;
  };
  const serial = (q, n) => async () => {
    const run = ++seq;
    const lat = [];
    q.setRemaining(n, () => {});
    for (let i = 0; i < n; i++) {
      const jobId = `r${run}-${i}`;
      const t0 = performance.now();
      const done = new Promise((r) => q.waiting.set(jobId, r));
      await q.queue.add('noop', { i }, { ...jobOptions, jobId });
      lat.push((await done) - t0);
    }
    stats.get(q.name).push({ lat });
    return n;
  };

  try {
    await queueConn.ping();
    const c1 = pair('c1', 1);
    const c16 = pair('c16', 16);
    const one = pair('serial', 1);
    for (const q of [c1, c16, one]) {
      stats.set(q.name, []);
      await q.worker.waitUntilReady();
    }
    const noop = async (job) => job.i;
    const cases = [
      {
        name: `in-process async loop, ${NOOP_JOBS} jobs`,
        unit: 'jobs',
        baseline: true,
        run: async () => {
          for (let i = 0; i < NOOP_JOBS; i++) await noop({ i });
          return NOOP_JOBS;
        },
      },
      { name: `BullMQ addBulk ${NOOP_JOBS} → Worker concurrency 1`, unit: 'jobs', run: batch(c1, NOOP_JOBS) },
      { name: `BullMQ addBulk ${NOOP_JOBS} → Worker concurrency 16`, unit: 'jobs', run: batch(c16, NOOP_JOBS) },
      { name: `BullMQ add → completed, one at a time, ${NOOP_SERIAL} jobs`, unit: 'jobs', run: serial(one, NOOP_SERIAL) },
    ];
    const result = await measure(
      { title: 'fleet queue overhead: no-op jobs through BullMQ on our redis-server — jobs/s', runs: 5, warmup: 1, cases },
      runsOverride,
    );
    const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    const perJob = (q, n) => {
      const rs = stats.get(q.name).slice(1); // timed runs only
      return `${((median(rs.map((r) => r.total)) / n) * 1000).toFixed(0)} µs/job end to end (addBulk alone ${((median(rs.map((r) => r.add)) / n) * 1000).toFixed(0)} µs/job)`;
    };
    const lat = stats
      .get(one.name)
      .slice(1)
      .flatMap((r) => r.lat);
    const base = result.rows[0];
    const slower = result.rows
      .slice(1)
      .map((r) => `${Math.round(base.rate / r.rate).toLocaleString('en-US')}×`)
      .join(' / ');
    const summary = () =>
      `queue overhead per job: concurrency 1 ${perJob(c1, NOOP_JOBS)}; concurrency 16 ${perJob(c16, NOOP_JOBS)}; ` +
      `idle-queue round trip add → completed median ${median(lat).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms; ` +
      `in-process loop ÷ BullMQ jobs/s (c1 / c16 / one at a time): ${slower}`;
    result.note = summary();
    return { result, summary };
  } finally {
    await Promise.all(bullWorkers.map((w) => w.close().catch(() => {})));
    for (const q of queues) await q.obliterate({ force: true }).catch(() => {});
    await Promise.all(queues.map((q) => q.close().catch(() => {})));
    for (const c of conns) c.disconnect();
  }
}
