import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig, type RunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { fixturePath, readPartBytes, startS3rver, tempDir, type S3rverHandle } from '@nextlong/testing';
import { compress, decompress } from 'zstd-napi';

// A run from s3:// inputs to an s3:// output on a real s3rver equals the same run on local
// folders, byte for byte.
describe('S3 in, S3 out', () => {
  let s3: S3rverHandle;
  let dir: string;
  let cleanup: () => Promise<void>;
  const saved = { ...process.env };

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['corpus', 'results'] });
    Object.assign(process.env, s3.env); // the stores read the standard AWS_* environment
    ({ dir, cleanup } = await tempDir('nextlong-s3-'));
  });
  afterAll(async () => {
    process.env = saved;
    await s3.stop();
    await cleanup();
  });

  const config = (input: string[], out: string): RunConfig =>
    parseRunConfig({ input, out, targetTokens: 4096, shardDocs: 25, concurrency: 1, format: 'both', sequences: 30 });

  test('byte-identical sequences and MDS to a local run', async () => {
    const text = await readFile(fixturePath('docs-a.slice.jsonl'));
    const lines = text.toString('utf8').trim().split('\n');
    const local = path.join(dir, 'in');
    await mkdir(local);
    await writeFile(path.join(local, 'a.jsonl'), lines.slice(0, 50).join('\n') + '\n');
    await writeFile(path.join(local, 'b.jsonl.zst'), compress(Buffer.from(lines.slice(50).join('\n') + '\n')));
    const bucket = openObjectStore('s3://corpus/in');
    await bucket.put('a.jsonl', await readFile(path.join(local, 'a.jsonl')));
    await bucket.put('b.jsonl.zst', await readFile(path.join(local, 'b.jsonl.zst')));

    const localOut = path.join(dir, 'out');
    const m1 = await runLocal(config([local], localOut), { quiet: true });
    const m2 = await runLocal(config(['s3://corpus/in'], 's3://results/run1'), { quiet: true });
    expect(m2.counts).toEqual(m1.counts);

    const out = openObjectStore('s3://results/run1');
    const keys: string[] = [];
    for await (const k of out.list('')) keys.push(k);
    expect(keys).toContain('manifest.json');
    const remote: Record<string, string> = {};
    for (const k of keys.filter((k) => k.startsWith('sequences/'))) remote[path.basename(k)] = decompress(Buffer.from(await out.get(k))).toString('utf8');
    const localParts = await readPartBytes(localOut);
    // part names carry the shard id, which hashes the input path: compare in plan order
    expect(Object.values(remote)).toEqual(Object.values(localParts));
    expect(Object.values(localParts).join('').length).toBeGreaterThan(1000);
    // MDS shard files, in the same (shard id) order on both sides
    const remoteMds = keys.filter((k) => k.endsWith('.mds'));
    const localMds = (await readdir(path.join(localOut, 'mds'), { recursive: true })).filter((f) => f.endsWith('.mds')).sort();
    expect(remoteMds.length).toBe(localMds.length);
    for (let i = 0; i < localMds.length; i++) {
      expect(Buffer.from(await out.get(remoteMds[i]!)).equals(await readFile(path.join(localOut, 'mds', localMds[i]!)))).toBe(true);
    }
  });
});
