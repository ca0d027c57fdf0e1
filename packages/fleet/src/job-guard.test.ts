import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runIdOf } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { startRedis, type RedisHandle } from '@nextlong/testing';
import { Redis } from 'ioredis';
import { allowedOutputsOf, checkJobRun, isUnder } from './job-guard.js';
import { runKey, type JobPayload } from './jobs.js';

// Each rule of the worker's trust check, against a real Redis and a run.json on disk.
describe('checkJobRun: a job must name a registered run, at its registered output', () => {
  let redis: RedisHandle;
  let client: Redis;
  let dir: string;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-guard-'));
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A run folder with a run.json; `tamper` changes the config after the id was computed. */
  async function runAt(name: string, tamper?: (c: Record<string, unknown>) => void): Promise<{ out: string; job: JobPayload }> {
    const out = path.join(dir, name);
    const config = parseRunConfig({ input: ['/data/in.jsonl'], out });
    const runId = runIdOf(config);
    const written = { ...config } as Record<string, unknown>;
    tamper?.(written);
    await openObjectStore(out).put('run.json', JSON.stringify({ runId, createdAt: 'now', config: written, poolShards: [], inputShards: [] }));
    return { out, job: { runId, stage: 'embed', shard: 'a-0', out } };
  }
  const open = (out: string) => openObjectStore(out);
  const reason = async (p: Promise<unknown>) => ((await p.then(() => undefined, (e: Error) => e)) as Error | undefined);

  test('a registered run at its registered output passes', async () => {
    const { out, job } = await runAt('ok');
    await client.hset(runKey(job.runId), { out });
    const { plan } = await checkJobRun(job, client, open);
    expect(plan.runId).toBe(job.runId);
    expect((await checkJobRun(job, client, open, [dir])).plan.runId).toBe(job.runId);
  });

  test('a run no coordinator registered is refused, for good', async () => {
    const { job } = await runAt('unregistered');
    const e = await reason(checkJobRun(job, client, open));
    expect(e?.name).toBe('UnrecoverableError');
    expect(e?.message).toMatch(/no coordinator registered this run in Redis/);
  });

  test('an out other than the registered one is refused before it is read', async () => {
    const { job } = await runAt('elsewhere');
    await client.hset(runKey(job.runId), { out: 's3://results/real' });
    let opened = 0;
    const e = await reason(checkJobRun(job, client, (o) => (opened++, open(o))));
    expect(e?.message).toMatch(/the run's registered output is s3:\/\/results\/real/);
    expect(opened).toBe(0);
  });

  test('a run.json whose config does not hash to the run id is refused', async () => {
    const { out, job } = await runAt('tampered', (c) => (c.input = ['/etc/secret.jsonl']));
    await client.hset(runKey(job.runId), { out });
    const e = await reason(checkJobRun(job, client, open));
    expect(e?.name).toBe('UnrecoverableError');
    expect(e?.message).toMatch(/is not this run's \(its config hashes to [0-9a-f]{16}/);
  });

  test('NEXTLONG_ALLOWED_OUTPUTS restricts outputs, even registered ones', async () => {
    const { out, job } = await runAt('not-allowed');
    await client.hset(runKey(job.runId), { out });
    const allowed = allowedOutputsOf({ NEXTLONG_ALLOWED_OUTPUTS: ' s3://results/ , /srv/nextlong/' });
    expect(allowed).toEqual(['s3://results/', '/srv/nextlong/']);
    const e = await reason(checkJobRun(job, client, open, allowed));
    expect(e?.message).toMatch(/out is not under NEXTLONG_ALLOWED_OUTPUTS \(s3:\/\/results\/, \/srv\/nextlong\/\)/);
  });

  test('an allowed prefix admits whole path segments only', () => {
    expect(isUnder('/srv/nextlong/run1', '/srv/nextlong')).toBe(true);
    expect(isUnder('/srv/nextlong', '/srv/nextlong/')).toBe(true);
    expect(isUnder('/srv/nextlong-evil/run1', '/srv/nextlong')).toBe(false);
    expect(isUnder('/srv/nextlong/../etc', '/srv/nextlong/')).toBe(false);
    expect(isUnder('s3://results/run1', 's3://results')).toBe(true);
    expect(isUnder('s3://results-other/run1', 's3://results')).toBe(false);
  });

  test('no run.json at the registered output is refused', async () => {
    const out = path.join(dir, 'empty');
    const job: JobPayload = { runId: '0123456789abcdef', stage: 'synth', shard: 'x', out };
    await client.hset(runKey(job.runId), { out });
    expect((await reason(checkJobRun(job, client, open)))?.message).toMatch(/no run\.json in/);
  });
});
