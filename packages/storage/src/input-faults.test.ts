import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { isRetryable, setRetryLog } from '@nextlong/core';
import { compress } from 'zstd-napi';
import { startS3FaultProxy, type S3FaultProxy } from '../../testing/src/s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../../testing/src/s3rver.js';
import { planFileShards, type ShardSpec } from './inputs.js';
import { S3ObjectStore } from './s3-store.js';
import { readShard, type ShardItem } from './shard-reader.js';

// Transient vs corrupt while planning and reading input (DESIGN §8): bad bytes are one reject
// where the file breaks; a failing connection is retried and, past the budget, an error.

const opts = { textField: 'text', idField: 'id', maxRecordChars: 100_000 };
const lines = Array.from({ length: 120 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document ${i} `.repeat(40 + (i % 17)) }));
const plain = Buffer.from(lines.join('\n') + '\n');

async function readAll(shards: ShardSpec[]): Promise<ShardItem[]> {
  const out: ShardItem[] = [];
  for (const s of shards) for await (const it of readShard(s, opts)) out.push(it);
  return out;
}
const docs = (items: ShardItem[]) => items.filter((i) => 'doc' in i).length;
const rejects = (items: ShardItem[]) =>
  items.flatMap((i) => ('bad' in i ? [{ line: i.line, reason: i.bad.reason, message: i.bad.message }] : []));

let dir: string;
let s3: S3rverHandle;
let proxy: S3FaultProxy;
const envKeys = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'NEXTLONG_RETRY_BUDGET_MS'];
const saved = Object.fromEntries(envKeys.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-input-faults-'));
  s3 = await startS3rver({ buckets: ['corpus'] });
  proxy = await startS3FaultProxy({ target: s3.endpoint, rate: 0, kinds: ['cut'], seed: 5 });
  Object.assign(process.env, proxy.env); // input stores read the standard AWS_* environment
  setRetryLog(() => {});
  const up = new S3ObjectStore('s3://corpus', { env: s3.env });
  await up.put('c/a.jsonl', plain);
  await up.put('c/b.jsonl.zst', compress(plain));
  await up.put('c/c.jsonl.gz', gzipSync(plain));
  up.close();
});
afterAll(async () => {
  for (const k of envKeys) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  setRetryLog((l) => process.stderr.write(`${l}\n`));
  await proxy.close();
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('bad bytes are one reject where the file breaks', () => {
  test('a .gz that is plain text: one not_gzip reject naming the file', async () => {
    const f = path.join(dir, 'plain.jsonl.gz');
    await writeFile(f, plain);
    const items = await readAll(await planFileShards(f, 50));
    expect(docs(items)).toBe(0);
    expect(rejects(items)).toEqual([{ line: 1, reason: 'not_gzip', message: expect.stringContaining(f) }]);
    expect(rejects(items)[0]!.message).toMatch(/not gzip/);
  });

  test('a .zst cut mid-frame: the records before the break, then truncated_file at the line where it broke', async () => {
    const f = path.join(dir, 'cut.jsonl.zst');
    // big enough for several zstd blocks (a block is decoded whole)
    const many = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ id: i, text: `record ${i * 7919} of many` }));
    const z = compress(Buffer.from(many.join('\n') + '\n'));
    await writeFile(f, z.subarray(0, Math.floor(z.length * 0.6)));
    const items = await readAll(await planFileShards(f, 100_000));
    const r = rejects(items);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ reason: 'truncated_file', line: docs(items) + 1 });
    expect(r[0]!.message).toContain(`${f}: line ${docs(items) + 1}:`);
    expect(docs(items)).toBeGreaterThan(100);
    expect(docs(items)).toBeLessThan(many.length);
  });

  test('a .gz with flipped bytes is corrupt_file; empty compressed files hold no records', async () => {
    const g = Buffer.from(gzipSync(plain));
    for (let i = 0; i < 8; i++) g[Math.floor(g.length / 2) + i * 7] ^= 0xff;
    const f = path.join(dir, 'flipped.jsonl.gz');
    await writeFile(f, g);
    const items = await readAll(await planFileShards(f, 50));
    expect(rejects(items).map((r) => r.reason)).toEqual(['corrupt_file']);
    for (const name of ['empty.jsonl.gz', 'empty.jsonl.zst']) {
      await writeFile(path.join(dir, name), '');
      expect(await planFileShards(path.join(dir, name), 50)).toEqual([]);
    }
  });
});

describe('s3:// input through a proxy that cuts bodies', () => {
  test('plain, .zst and .gz: every record is planned and read, none rejected', async () => {
    proxy.setRate(0.5);
    try {
      for (const name of ['a.jsonl', 'b.jsonl.zst', 'c.jsonl.gz']) {
        const shards = await planFileShards(`s3://corpus/c/${name}`, 50);
        expect(shards.reduce((a, s) => a + s.records, 0)).toBe(lines.length);
        const items = await readAll(shards);
        expect(rejects(items)).toEqual([]);
        expect(docs(items)).toBe(lines.length);
      }
    } finally {
      proxy.setRate(0);
    }
    expect(proxy.stats().injected.cut).toBeGreaterThan(2);
  });

  test('an outage longer than the retry budget fails the plan with one line naming the file, and fails a read (no reject)', async () => {
    process.env.NEXTLONG_RETRY_BUDGET_MS = '600';
    try {
      const shards = await planFileShards('s3://corpus/c/b.jsonl.zst', 50);
      proxy.outage(30_000);
      const err = await planFileShards('s3://corpus/c/b.jsonl.zst', 50).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeDefined();
      expect(isRetryable(err)).toBe(true);
      expect(err!.message).toMatch(/^cannot plan input s3:\/\/corpus\/c\/b\.jsonl\.zst: /);
      expect(err!.message).not.toContain('\n');
      const readErr = await readAll(shards).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(readErr && isRetryable(readErr)).toBe(true);
    } finally {
      proxy.outage(0);
      delete process.env.NEXTLONG_RETRY_BUDGET_MS;
    }
  });
});
