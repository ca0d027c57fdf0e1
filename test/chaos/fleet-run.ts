import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { startRedis, type RedisHandle, type StartRedisOptions } from '@nextlong/testing';
import { Redis } from 'ioredis';
import { cpuTicks, Procs, sleep, waitFor, type Proc, type Rng } from './harness.js';
import { runFlags, type Corpus } from './output.js';

// One trial's fleet: its own redis-server, two embed and two synth workers and a coordinator,
// all the built CLI, writing to its own s3:// output; and the moments at which faults strike.

export type Stage = 'embed' | 'index' | 'synth';
type WorkerStage = 'embed' | 'synth';

export interface FleetOptions {
  name: string;
  corpus: Corpus;
  /** Shards per stage in the plan (embed and synth alike here). */
  shards: number;
  /** s3rver itself: what the harness reads and deletes through. */
  s3env: Record<string, string>;
  /** What the fleet's processes use to reach S3 (the fault proxy's variables, or s3env). */
  fleetS3env?: Record<string, string>;
  redis?: StartRedisOptions;
}

/** Lock short enough that a killed worker's shard is taken again within seconds. */
const LOCK_MS = '5000';

export class FleetRun {
  readonly procs = new Procs();
  readonly out: string;
  readonly store: StreamingObjectStore;
  readonly workers: Record<WorkerStage, Proc[]> = { embed: [], synth: [] };
  coordinator!: Proc;
  private probe?: Redis;
  private started = 0;

  private constructor(
    readonly o: FleetOptions,
    readonly redis: RedisHandle,
  ) {
    this.out = `s3://results/${o.name}`;
    this.store = openObjectStore(this.out, { env: o.s3env });
  }

  static async start(o: FleetOptions): Promise<FleetRun> {
    const f = new FleetRun(o, await startRedis(o.redis ?? {}));
    for (const s of ['embed', 'embed', 'synth', 'synth'] as const) f.startWorker(s);
    f.startCoordinator();
    return f;
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, ...(this.o.fleetS3env ?? this.o.s3env), NEXTLONG_METRICS_LINGER_SECONDS: '0' };
  }

  startWorker(stage: WorkerStage): Proc {
    const args = ['worker', '--stage', stage, '--redis', this.redis.url, '--lock-ms', LOCK_MS, '--grace-seconds', '2', '--metrics', 'off'];
    const p = this.procs.start(`${stage}-worker-${++this.started}`, args, this.env);
    this.workers[stage].push(p);
    return p;
  }

  /** The same coordinator command each time (a restart is the user running it again). */
  startCoordinator(): Proc {
    const args = ['coordinator', '--redis', this.redis.url, ...runFlags(this.o.corpus), '--out', this.out, '--metrics', 'off'];
    this.coordinator = this.procs.start(`coordinator-${++this.started}`, args, this.env);
    return this.coordinator;
  }

  async markers(stage: Stage): Promise<number> {
    let n = 0;
    for await (const _ of this.store.list(`done/${stage}/`)) n++;
    return n;
  }

  /** Ids of the BullMQ jobs of a queue in a state (`active`, `wait`); empty while Redis is away. */
  async jobs(stage: Stage, state: 'active' | 'wait'): Promise<string[]> {
    if (!this.probe) {
      this.probe = new Redis(this.redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
      this.probe.on('error', () => {}); // Redis restarts are the point of some trials
    }
    const queue = stage === 'synth' ? 'nextlong-synth' : 'nextlong-embed';
    return (await this.probe.lrange(`bull:${queue}:${state}`, 0, -1)).filter((id) => id.includes(`-${stage}-`));
  }

  /**
   * Waits for a random moment of `stage`: after a random number of its shards are done (embed,
   * synth) or once it may start (index: every embed shard done), then a random delay. `need`:
   * also until one of its jobs is active (a worker kill should hit a running shard) or one is
   * still waiting in the queue (losing Redis then loses work). False when the stage or the run
   * ended (or `until` passed) first: no fault is injected then.
   */
  async moment(stage: Stage, rng: Rng, until: number, need: 'stage' | 'active' | 'wait' = 'stage'): Promise<boolean> {
    const c = this.coordinator;
    // at most shards − 4 done: later, the last shards can end between two looks
    const k = stage === 'index' ? 0 : rng.int(0, Math.max(0, this.o.shards - 4));
    const all = stage === 'index' ? 1 : this.o.shards;
    let inside = false;
    const probe = (min: number) => async () => {
      inside = false;
      if (!c.alive()) return true; // the run ended first
      const done = await this.markers(stage);
      if (done >= all) return true; // so did the stage
      const started = stage !== 'index' || (await this.markers('embed')) >= this.o.shards;
      inside = started && done >= min && (need === 'stage' || (await this.jobs(stage, need)).length > 0);
      return inside;
    };
    if (!(await waitFor(probe(k), until, 20)) || !inside) return false;
    // short: an embed shard takes ~0.1 s, and the moment must still fall inside the stage
    await sleep(rng.int(0, stage === 'synth' ? 300 : 100));
    return (await waitFor(probe(0), until, 20)) && inside;
  }

  /**
   * kill -9 of one worker of the stage (a random one; for the short index step the one using
   * the CPU, i.e. running it), then a replacement, as a supervisor would start. Returns the
   * killed process.
   */
  async killWorker(stage: Stage, rng: Rng): Promise<Proc> {
    const ws: WorkerStage = stage === 'synth' ? 'synth' : 'embed';
    const alive = this.workers[ws].filter((w) => w.alive());
    let victim = rng.pick(alive);
    if (stage === 'index' && alive.length > 1) {
      const before = alive.map((w) => cpuTicks(w.child.pid));
      await sleep(60);
      const used = alive.map((w, i) => cpuTicks(w.child.pid) - before[i]!);
      victim = alive[used.indexOf(Math.max(...used))]!;
    }
    await victim.kill9();
    this.startWorker(ws);
    return victim;
  }

  /** Shards whose lock expired after a kill and were taken again, as the survivors logged them. */
  stalls(): number {
    return this.procs.all.reduce((n, p) => n + (p.log().match(/stalled: its lock expired/g)?.length ?? 0), 0);
  }

  async close(): Promise<void> {
    this.probe?.disconnect();
    await this.procs.killAll();
    await this.redis.stop();
  }
}
