import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isRetryable, onRetry, setRetryLog, type RetryEvent } from '@nextlong/core';
import { startS3FaultProxy, type S3FaultProxy } from '../../testing/src/s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../../testing/src/s3rver.js';
import { pseudoRandomBytes as bytes } from '../../testing/src/test-helpers.js';
import { S3ObjectStore } from './s3-store.js';

// Every S3ObjectStore call through a proxy that breaks a share of requests (5xx, 429, resets,
// bodies cut mid-stream): the calls succeed with the right bytes, and every retry is visible.

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


async function drain(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

let s3: S3rverHandle;
const proxies: S3FaultProxy[] = [];
const stores: S3ObjectStore[] = [];
const retries: RetryEvent[] = [];
let stop: () => void;

async function through(o: Omit<Parameters<typeof startS3FaultProxy>[0], 'target'>, env: Record<string, string> = {}, partSize?: number) {
  const proxy = await startS3FaultProxy({ target: s3.endpoint, ...o });
  proxies.push(proxy);
  const store = new S3ObjectStore('s3://faults/p', { env: { ...proxy.env, ...env }, partSize });
  stores.push(store);
  return { proxy, store };
}

beforeAll(async () => {
  s3 = await startS3rver({ buckets: ['faults'] });
  stop = onRetry((e) => retries.push(e));
  setRetryLog(() => {});
});
beforeEach(() => {
  retries.length = 0;
});
afterAll(async () => {
  stop();
  setRetryLog((l) => process.stderr.write(`${l}\n`));
  for (const s of stores) s.close();
  for (const p of proxies) await p.close();
  await s3.stop();
});

test('every call rides out 5xx, 429, resets and cut bodies on a third of requests, visibly', async () => {
  const { proxy, store } = await through({ rate: 0.35, seed: 1 }, {}, 5 * MiB);
  const small = bytes(200_000, 1);
  await store.put('a/small.bin', small);
  expect(sha(await store.get('a/small.bin'))).toBe(sha(small));
  expect(Buffer.from(await store.getRange('a/small.bin', 1000, 51_000))).toEqual(small.subarray(1000, 51_000));
  expect(sha(await drain(store.getStream('a/small.bin')))).toBe(sha(small));
  expect(await store.exists('a/small.bin')).toBe(true);
  expect(await store.exists('a/none.bin')).toBe(false);
  expect(await store.size('a/small.bin')).toBe(small.length);
  // a multipart upload: its parts are resent by the SDK, with the same visible retries
  const big = bytes(11 * MiB, 2);
  await store.putStream('a/big.bin', Readable.from([big.subarray(0, 6 * MiB), big.subarray(6 * MiB)]));
  expect(sha(await drain(store.getStream('a/big.bin')))).toBe(sha(big));
  const keys: string[] = [];
  for await (const k of store.list('a/')) keys.push(k);
  expect(keys).toEqual(['a/big.bin', 'a/small.bin']);
  await store.delete('a/small.bin');
  expect(await store.exists('a/small.bin')).toBe(false);

  const { injected, requests } = proxy.stats();
  const faults = Object.values(injected).reduce((a, b) => a + b, 0);
  expect(faults).toBeGreaterThanOrEqual(4);
  // every fault cost one reported retry (no SDK retries hide behind them)
  expect(retries.length).toBe(faults);
  expect(retries.every((e) => e.target === 's3' && e.reason !== '')).toBe(true);
  expect(new Set(retries.map((e) => e.reason)).size).toBeGreaterThan(1);
  expect(requests).toBeGreaterThan(faults);
});

test('a download cut mid-body resumes from the last byte received (ranged GET), not from the start', async () => {
  const { proxy, store } = await through({ rate: 0.5, kinds: ['cut'], seed: 3 });
  const data = bytes(3 * MiB, 9);
  proxy.setRate(0);
  await store.put('r/obj.bin', data);
  proxy.setRate(0.5);
  for (let i = 0; i < 3; i++) {
    const back = await drain(store.getStream('r/obj.bin'));
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
  }
  expect(proxy.stats().injected.cut).toBeGreaterThan(0);
  const resumed = retries.map((e) => Number(/at byte (\d+)/.exec(e.what)?.[1]));
  expect(resumed.some((n) => n > 0)).toBe(true);
});

test('an outage longer than the retry budget fails the call with a RetryableError, never a short answer', async () => {
  const { proxy, store } = await through({ rate: 0 }, { NEXTLONG_RETRY_BUDGET_MS: '700' });
  await store.put('o/x.bin', bytes(100_000, 4));
  proxy.outage(60_000);
  for (const call of [() => store.get('o/x.bin'), () => drain(store.getStream('o/x.bin')), () => store.exists('o/x.bin')]) {
    const err = await call().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err && isRetryable(err)).toBe(true);
    expect(err!.message).toContain('s3://faults/p/o/x.bin');
  }
  expect(retries.length).toBeGreaterThanOrEqual(3);
});

test('a reader that stops early ends the download quietly: no retry', async () => {
  const { store } = await through({ rate: 0 });
  await store.put('early.bin', bytes(4 * MiB, 7));
  const s = store.getStream('early.bin');
  const errors: NodeJS.ErrnoException[] = [];
  s.on('error', (e) => errors.push(e));
  for await (const _ of s) break; // like a shard whose last line comes before the end of the file
  await new Promise((r) => setTimeout(r, 300));
  expect(retries).toEqual([]);
  // (breaking out of for-await destroys any Readable with Node's own AbortError)
  expect(errors.filter((e) => e.code !== 'ABORT_ERR')).toEqual([]);
});
