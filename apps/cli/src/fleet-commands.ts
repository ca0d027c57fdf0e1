import { parseArgs } from 'node:util';
import { ConfigError } from '@nextlong/core';

type Values = Record<string, string | string[] | boolean | undefined>;

/** `--redis` or REDIS_URL; required by every fleet command. */
export function redisUrlOf(v: Values): string {
  const url = (v.redis as string | undefined) ?? process.env.REDIS_URL;
  if (!url) throw new ConfigError('missing --redis <url> (or REDIS_URL)');
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError('--redis must be a redis:// or rediss:// URL');
  return url;
}

/** `nextlong worker --stage embed|synth --redis <url>`: runs until SIGTERM/SIGINT, then exits 0. */
export async function workerCommand(args: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      stage: { type: 'string' },
      redis: { type: 'string' },
      concurrency: { type: 'string' },
      'lock-ms': { type: 'string' },
      'grace-seconds': { type: 'string' },
      metrics: { type: 'string' },
    },
  });
  const stage = v.stage ?? process.env.NEXTLONG_STAGE;
  if (stage !== 'embed' && stage !== 'synth') throw new ConfigError('--stage must be embed or synth');
  const num = (name: string, value: string | undefined, dflt: number) => {
    const n = value === undefined ? dflt : Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name} must be a positive number`);
    return n;
  };
  const redisUrl = redisUrlOf(v);
  const concurrency = num('concurrency', v.concurrency ?? process.env.NEXTLONG_WORKER_CONCURRENCY, 1);
  const lockMs = num('lock-ms', v['lock-ms'] ?? process.env.NEXTLONG_LOCK_MS, 30_000);
  const graceMs = 1000 * num('grace-seconds', v['grace-seconds'] ?? process.env.NEXTLONG_GRACE_SECONDS, 25);
  const { allowedOutputsOf, envMs, startWorker, DEFAULT_REDIS_CONNECT_TIMEOUT_MS } = await import('@nextlong/fleet');
  const { serveMetrics } = await import('./metrics-server.js');
  const connectTimeoutMs = envMs('NEXTLONG_REDIS_CONNECT_TIMEOUT_MS', DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
  // metrics first: a taken --metrics address is a configuration error before any job is taken
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const server = await serveMetrics(v.metrics as string | undefined, () => worker?.ready() ?? false);
  worker = await startWorker({ redisUrl, stage, concurrency, lockMs, graceMs, connectTimeoutMs, allowedOutputs: allowedOutputsOf() });
  const started = worker;
  const stop = () => void started.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await started.closed;
  await server?.close();
  return 0;
}

/** `nextlong coordinator --redis <url> <run flags>`: plan, enqueue, wait, finalize. */
export async function coordinatorCommand(redisUrl: string, config: import('@nextlong/core').RunConfig, metrics: string | undefined, quiet: boolean): Promise<number> {
  const { runCoordinator, envMs, DEFAULT_REDIS_CONNECT_TIMEOUT_MS, DEFAULT_REDIS_OUTAGE_MS } = await import('@nextlong/fleet');
  const { serveMetrics } = await import('./metrics-server.js');
  const { formatSummary } = await import('./summary.js');
  // bounds of waiting on Redis and the warnings' delays (tests shorten them)
  const timing = {
    connectTimeoutMs: envMs('NEXTLONG_REDIS_CONNECT_TIMEOUT_MS', DEFAULT_REDIS_CONNECT_TIMEOUT_MS),
    redisOutageMs: envMs('NEXTLONG_REDIS_OUTAGE_SECONDS', DEFAULT_REDIS_OUTAGE_MS, 1000),
    noWorkersWarnMs: envMs('NEXTLONG_NO_WORKERS_WARN_SECONDS', 10_000, 1000),
    overdueFloorMs: envMs('NEXTLONG_OVERDUE_FLOOR_SECONDS', 60_000, 1000),
  };
  const server = await serveMetrics(metrics, () => true);
  try {
    const manifest = await runCoordinator({ redisUrl, config, quiet, ...timing });
    process.stdout.write(formatSummary(manifest));
    // let Prometheus scrape the final counts before the process goes away
    const linger = Number(process.env.NEXTLONG_METRICS_LINGER_SECONDS ?? 15);
    if (server && linger > 0) await new Promise((r) => setTimeout(r, linger * 1000));
    return 0;
  } finally {
    await server?.close();
  }
}
