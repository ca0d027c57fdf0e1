import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { onRetry, parseRunConfig, setRetryLog, type RetryEvent, type RunConfig } from '@nextlong/core';
import { planRun, runLocal } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import {
  fixturePath,
  readPartBytes,
  startS3FaultProxy,
  startS3rver,
  tempDir,
  type S3FaultProxy,
  type S3rverHandle,
} from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import { compress } from 'zstd-napi';

// A transient fault costs a retry, never data (DESIGN §8): a run reading s3:// input through a
// proxy that cuts bodies, resets connections and answers 5xx/429 reads every record of the
// corpus and writes the same bytes as a run without faults.

describe('input faults', () => {
  let s3: S3rverHandle;
  let proxy: S3FaultProxy;
  let dir: string;
  let cleanup: () => Promise<void>;
  let corpusRecords: number;
  let reference: Record<string, string>;
  const retries: RetryEvent[] = [];
  let stopRetries: () => void;
  const envKeys = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'NEXTLONG_RETRY_BUDGET_MS'];
  const saved = Object.fromEntries(envKeys.map((k) => [k, process.env[k]]));

  const config = (out: string, input = ['s3://corpus/in']): RunConfig =>
    parseRunConfig({ input, out, targetTokens: 4096, shardDocs: 10, concurrency: 1 });
  const faults = () => Object.values(proxy.stats().injected).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-input-faults-'));
    s3 = await startS3rver({ buckets: ['corpus'] });
    proxy = await startS3FaultProxy({ target: s3.endpoint, rate: 0, seed: 11 });
    Object.assign(process.env, proxy.env); // every S3 request of the run goes through the proxy
    stopRetries = onRetry((e) => retries.push(e));
    setRetryLog(() => {});
    // the corpus: one plain, one zstd and one gzip file; its records counted here, by hand
    const text = await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    corpusRecords = lines.length;
    const part = (a: number, b: number) => Buffer.from(lines.slice(a, b).join('\n') + '\n');
    const up = openObjectStore('s3://corpus/in', { env: s3.env });
    await up.put('a.jsonl', part(0, 30));
    // several zstd frames: its shards are frame ranges, read with ranged GETs
    await up.put('b.jsonl.zst', Buffer.concat([30, 35, 40, 45, 50].map((a) => compress(part(a, a + 5)))));
    await up.put('c.jsonl.gz', gzipSync(part(55, lines.length)));
    const ref = path.join(dir, 'ref');
    const m = await runLocal(config(ref), { quiet: true });
    expect(m.counts.documents_read).toBe(corpusRecords);
    reference = await readPartBytes(ref);
    expect(Object.keys(reference).length).toBeGreaterThan(3);
  });
  afterAll(async () => {
    stopRetries();
    setRetryLog((l) => process.stderr.write(`${l}\n`));
    for (const k of envKeys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await proxy.close();
    await s3.stop();
    await cleanup();
  });
  beforeEach(() => {
    retries.length = 0;
    proxy.setRate(0);
    proxy.outage(0);
  });

  test('cut bodies, resets, 5xx and 429 on a share of requests: every record read, output identical', async () => {
    const before = faults();
    proxy.setRate(0.3);
    const out = path.join(dir, 'faulty');
    const m = await runLocal(config(out), { quiet: true });
    proxy.setRate(0);
    expect(m.counts.documents_read).toBe(corpusRecords);
    expect(m.counts.documents_rejected).toBe(0);
    expect(await readPartBytes(out)).toEqual(reference);
    const injected = faults() - before;
    expect(injected).toBeGreaterThanOrEqual(5);
    // retries are visible (one per fault is checked call by call in s3-faults.test.ts; here a
    // fault may land on a read its shard no longer needs, which ends it instead of retrying)
    expect(retries.filter((e) => e.target === 's3').length).toBeGreaterThan(0);
    process.stdout.write(
      `input-faults: ${m.counts.documents_read} of ${corpusRecords} records read, ${injected} faults injected ${JSON.stringify(proxy.stats())}\n`,
    );
  });

  test('an S3 outage shorter than the retry budget is ridden out', async () => {
    const before = faults();
    proxy.outage(2500);
    const out = path.join(dir, 'outage');
    const m = await runLocal(config(out), { quiet: true });
    expect(m.counts.documents_read).toBe(corpusRecords);
    expect(await readPartBytes(out)).toEqual(reference);
    expect(faults() - before).toBeGreaterThanOrEqual(2);
  });

  test('a shard that fails with a RetryableError (retry budget spent) is run again by the local executor', async () => {
    const out = path.join(dir, 'shard-retry');
    const c = config(out);
    await planRun(c, openObjectStore(out), loadTokenizer(c.tokenizer)); // planned without faults
    process.env.NEXTLONG_RETRY_BUDGET_MS = '0'; // any fault now fails the shard that meets it
    proxy.setRate(0.2);
    try {
      const m = await runLocal(c, { quiet: true });
      expect(m.counts.documents_read).toBe(corpusRecords);
      expect(await readPartBytes(out)).toEqual(reference);
    } finally {
      delete process.env.NEXTLONG_RETRY_BUDGET_MS;
      proxy.setRate(0);
    }
    const shardRetries = retries.filter((e) => e.target === 'shard');
    expect(shardRetries.length).toBeGreaterThan(0);
    expect(shardRetries.every((e) => e.reason === 'RetryableError')).toBe(true);
  });

  test('a .gz that is plain text is one not_gzip reject naming the file', async () => {
    const corpus = path.join(dir, 'local');
    await mkdir(corpus, { recursive: true });
    const text = await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8');
    await writeFile(path.join(corpus, 'good.jsonl'), text.split('\n').slice(0, 20).join('\n') + '\n');
    await writeFile(path.join(corpus, 'plain.jsonl.gz'), text.split('\n').slice(20, 25).join('\n') + '\n');
    const out = path.join(dir, 'not-gzip');
    const m = await runLocal(config(out, [corpus]), { quiet: true });
    expect(m.rejects_by_reason).toEqual({ not_gzip: 1 });
    const rejects: { file: string; reason: string; line: number }[] = [];
    for (const f of await readdir(path.join(out, 'rejects'))) {
      for (const l of (await readFile(path.join(out, 'rejects', f), 'utf8')).trim().split('\n')) rejects.push(JSON.parse(l));
    }
    expect(rejects).toEqual([expect.objectContaining({ file: path.join(corpus, 'plain.jsonl.gz'), reason: 'not_gzip', line: 1 })]);
  });
});
