import { startS3FaultProxy } from '@nextlong/testing';
import { FleetRun, type FleetOptions, type Stage } from './fleet-run.js';
import { sleep, within, type Rng } from './harness.js';
import { deleteAll, readOutput, verify, type Corpus, type Output } from './output.js';

// The chaos scenarios: each trial is one fleet run with faults injected while it runs, checked
// against the uninterrupted reference run.

export interface TrialContext {
  corpus: Corpus;
  reference: Output;
  s3env: Record<string, string>;
  /** Shards per stage of the plan. */
  shards: number;
  rng: Rng;
  /** Unique per trial: names its output folder. */
  name: string;
  /** A trial that has not finished within this many ms is hung: its processes are killed. */
  boundMs: number;
  /** Trial number within its scenario (0-based). */
  index: number;
  long: boolean;
}

export interface TrialResult {
  faults: number;
  /** The (last) coordinator exited 0 within the bound. */
  completed: boolean;
  identical: boolean;
  lost: number;
  duplicated: number;
  hung: boolean;
  /** What went wrong, in words, with the processes' last log lines. */
  notes: string[];
  /** Killed workers whose running shard was taken again after its lock expired. */
  stalls: number;
  /** Stages whose moment passed before the fault could strike (nothing injected there). */
  missed: Stage[];
}

export interface Scenario {
  name: string;
  trials: { short: number; long: number };
  run(t: TrialContext): Promise<TrialResult>;
}

type Count = { faults: number; missed: Stage[] };
type Inject = (f: FleetRun, until: number, count: Count) => Promise<void>;

/** Runs the fleet with `inject` striking while it runs, waits for the last coordinator, checks. */
async function fleetTrial(t: TrialContext, opts: Partial<FleetOptions>, inject: Inject, extraFaults?: () => number): Promise<TrialResult> {
  const deadline = Date.now() + t.boundMs;
  const f = await FleetRun.start({ name: t.name, corpus: t.corpus, shards: t.shards, s3env: t.s3env, ...opts });
  const count: Count = { faults: 0, missed: [] };
  const res: TrialResult = {
    faults: 0,
    completed: false,
    identical: false,
    lost: 0,
    duplicated: 0,
    hung: false,
    notes: [],
    stalls: 0,
    missed: count.missed,
  };
  try {
    const injected = await within(inject(f, deadline, count), deadline - Date.now());
    const code = injected === 'timeout' ? 'timeout' : await within(f.coordinator.exit, deadline - Date.now());
    res.faults = count.faults + (extraFaults?.() ?? 0);
    res.stalls = f.stalls();
    if (code === 'timeout') {
      res.hung = true;
      res.notes.push(`not finished within ${Math.round(t.boundMs / 1000)} s; processes killed`);
    } else if (code !== 0) {
      res.notes.push(`coordinator exited ${code}`);
    } else {
      res.completed = true;
      const v = verify(await readOutput(f.store), t.reference, t.corpus);
      Object.assign(res, { identical: v.identical, lost: v.lost, duplicated: v.duplicated });
      res.notes.push(...v.problems);
    }
    if (!res.identical) res.notes.push(f.procs.tails());
    return res;
  } finally {
    await f.close();
  }
}

const STAGES: Stage[] = ['embed', 'index', 'synth'];

/** kill -9 of a random worker of the stage at a random moment of it, then a replacement. */
async function killWorkerAt(f: FleetRun, stage: Stage, t: TrialContext, until: number, count: Count): Promise<void> {
  if (!(await f.moment(stage, t.rng, until, 'active'))) return void count.missed.push(stage);
  await f.killWorker(stage, t.rng);
  count.faults++;
}

export const scenarios: Scenario[] = [
  {
    // short: one trial with a kill in each stage; long: one kill per trial, stages in turn
    name: 'worker kill -9',
    trials: { short: 1, long: 21 },
    run: (t) =>
      fleetTrial(t, {}, async (f, until, count) => {
        const stages = t.long ? [STAGES[t.index % 3]!] : STAGES;
        for (const s of stages) await killWorkerAt(f, s, t, until, count);
      }),
  },
  {
    name: 'coordinator kill -9 + restart',
    trials: { short: 1, long: 2 },
    run: (t) =>
      fleetTrial(t, {}, async (f, until, count) => {
        const stage = t.rng.pick(STAGES);
        if (!(await f.moment(stage, t.rng, until))) return void count.missed.push(stage);
        await f.coordinator.kill9();
        count.faults++;
        await sleep(t.rng.int(0, 1000));
        f.startCoordinator();
      }),
  },
  {
    name: 'redis restart (AOF on)',
    trials: { short: 1, long: 2 },
    run: (t) =>
      fleetTrial(t, { redis: { appendonly: true } }, async (f, until, count) => {
        const stage = t.rng.pick(STAGES);
        if (!(await f.moment(stage, t.rng, until))) return void count.missed.push(stage);
        await f.redis.kill();
        count.faults++;
        await sleep(t.rng.int(300, 2000));
        await f.redis.restart();
      }),
  },
  {
    name: 'S3 faults 10% (proxy)',
    trials: { short: 1, long: 2 },
    async run(t) {
      const proxy = await startS3FaultProxy({ target: t.s3env.AWS_ENDPOINT_URL!, rate: 0.1, seed: t.rng.int(1, 2 ** 30) });
      const injected = () => Object.values(proxy.stats().injected).reduce((a, b) => a + b, 0);
      try {
        const r = await fleetTrial(t, { fleetS3env: { ...t.s3env, ...proxy.env } }, async () => {}, injected);
        const s = proxy.stats();
        r.notes.unshift(`proxy: ${s.requests} requests, injected ${JSON.stringify(s.injected)}`);
        return r;
      } finally {
        await proxy.close();
      }
    },
  },
  {
    name: 'output deleted + same command',
    trials: { short: 1, long: 2 },
    run: (t) =>
      fleetTrial(t, {}, async (f, _until, count) => {
        const code = await f.coordinator.exit;
        if (code !== 0) return; // the first run failed: checked as the trial's result
        await deleteAll(f.store);
        count.faults++;
        f.startCoordinator();
      }),
  },
  {
    name: 'redis killed, no persistence',
    trials: { short: 1, long: 2 },
    run: (t) =>
      fleetTrial(t, {}, async (f, until, count) => {
        // while shards still wait in the queue: those are what a Redis without persistence loses
        const stage = t.rng.pick(['embed', 'synth'] as const);
        if (!(await f.moment(stage, t.rng, until, 'wait'))) return void count.missed.push(stage);
        await f.redis.kill();
        count.faults++;
        await sleep(t.rng.int(300, 1500));
        await f.redis.restart(); // empty: its jobs are gone
      }),
  },
];
