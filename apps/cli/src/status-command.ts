import { ConfigError, logger } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { isDone, keys, readPlan } from '@nextlong/pipeline';

/** `nextlong status (--redis <url> --run <id> | --out <dir>)`: per-stage shards done / total. */
export async function statusCommand(v: Record<string, unknown>): Promise<number> {
  if (v.redis || v.run) {
    if (!v.redis || !v.run) throw new ConfigError('status needs both --redis <url> and --run <id>');
    const { fleetStatus, envMs, DEFAULT_REDIS_CONNECT_TIMEOUT_MS } = await import('@nextlong/fleet');
    const { redisUrlOf } = await import('./fleet-commands.js');
    const connectTimeoutMs = envMs('NEXTLONG_REDIS_CONNECT_TIMEOUT_MS', DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
    process.stdout.write((await fleetStatus(redisUrlOf({ redis: v.redis as string }), v.run as string, connectTimeoutMs)) + '\n');
    return 0;
  }
  const out = v.out as string | undefined;
  if (!out) throw new ConfigError('status needs --out <dir> or --redis <url> --run <id>');
  const store = openObjectStore(out);
  const plan = await readPlan(store);
  if (!plan) {
    logger().error(`nextlong: no run in ${store.root} (run.json not found)`);
    return 2;
  }
  const count = async (stage: 'embed' | 'index' | 'synth', ids: string[]) => {
    let done = 0;
    for (const id of ids) if (await isDone(store, stage, id)) done++;
    return `${stage.padEnd(6)} ${done}/${ids.length} shards${done === ids.length ? ' (complete)' : ''}`;
  };
  const lines = [
    `run ${plan.runId} in ${store.root} (started ${plan.createdAt})`,
    await count('embed', plan.poolShards.map((s) => s.id)),
    await count('index', ['index']),
    await count('synth', plan.inputShards.map((s) => s.id)),
    (await store.exists(keys.manifest)) ? 'finished: manifest.json written' : 'not finished: re-run the same command to resume',
    `see it: nextlong inspect --out ${out} (one HTML report: counts, hardness, sequences)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
