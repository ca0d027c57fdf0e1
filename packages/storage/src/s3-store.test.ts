import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  isPermanent,
  isRetryable,
  onRetry,
  PermanentError,
  RetryableError,
  setRetryLog,
  type RetryEvent,
} from '@nextlong/core';
import { startS3rver, type S3rverHandle } from '../../testing/src/s3rver.js';
import { pseudoRandomBytes as bytes } from '../../testing/src/test-helpers.js';
import { S3ObjectStore } from './s3-store.js';
import { collect, failure } from './test-support.js';

const MiB = 1024 * 1024;
const BUCKET = 'nextlong-test';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let s3: S3rverHandle;
const stores: S3ObjectStore[] = [];
function store(uri = `s3://${BUCKET}/run-1`, extra: Record<string, string> = {}, opts: { partSize?: number; listPageSize?: number } = {}) {
  const s = new S3ObjectStore(uri, { env: { ...s3.env, ...extra }, ...opts });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET, 'other-bucket'] });
});

afterAll(async () => {
  for (const s of stores) s.close();
  await s3?.stop();
});

describe('S3ObjectStore against s3rver', () => {
  test('root prints s3://bucket/prefix and never credentials', () => {
    expect(store(`s3://${BUCKET}/run-1/`).root).toBe(`s3://${BUCKET}/run-1`);
    expect(store(`s3://${BUCKET}`).root).toBe(`s3://${BUCKET}`);
  });

  test('put / get / exists / size / list / delete with nested keys', async () => {
    const st = store(`s3://${BUCKET}/rt`);
    const sibling = store(`s3://${BUCKET}/rt2`);
    await sibling.put('shards/0.json', 'not mine');
    await st.put('shards/b/2.json', '{"b":2}');
    await st.put('shards/a/1.json', new TextEncoder().encode('{"a":1}'));
    await st.put('shards/a/0.json', '');
    await st.put('run.json', 'ünïcødé ✓');

    expect(Buffer.from(await st.get('shards/a/1.json')).toString()).toBe('{"a":1}');
    expect(Buffer.from(await st.get('run.json')).toString('utf8')).toBe('ünïcødé ✓');
    expect((await st.get('shards/a/0.json')).length).toBe(0);
    expect(await st.exists('shards/b/2.json')).toBe(true);
    expect(await st.exists('shards/b/3.json')).toBe(false);
    expect(await st.exists('shards/b')).toBe(false);
    expect(await st.size('run.json')).toBe(Buffer.byteLength('ünïcødé ✓'));

    expect(await collect(st.list(''))).toEqual(['run.json', 'shards/a/0.json', 'shards/a/1.json', 'shards/b/2.json']);
    expect(await collect(st.list('shards/'))).toEqual(['shards/a/0.json', 'shards/a/1.json', 'shards/b/2.json']);
    expect(await collect(st.list('shards/a'))).toEqual(['shards/a/0.json', 'shards/a/1.json']);
    expect(await collect(st.list('nothing/'))).toEqual([]);
    // The whole bucket sees both prefixes, keys relative to the bucket.
    expect(await collect(store(`s3://${BUCKET}`).list('rt2/'))).toEqual(['rt2/shards/0.json']);

    await st.put('run.json', 'overwritten');
    expect(Buffer.from(await st.get('run.json')).toString()).toBe('overwritten');

    await st.delete('shards/a/1.json');
    await st.delete('shards/a/1.json'); // idempotent
    expect(await st.exists('shards/a/1.json')).toBe(false);
    expect(await collect(st.list('shards/'))).toEqual(['shards/a/0.json', 'shards/b/2.json']);
    expect(await sibling.exists('shards/0.json')).toBe(true);
  });

  test('list follows continuation pages', async () => {
    const st = store(`s3://${BUCKET}/paged`, {}, { listPageSize: 2 });
    const keys = ['k/07', 'k/01', 'k/03', 'k/05', 'k/00', 'k/02', 'k/04', 'k/06'];
    await Promise.all(keys.map((k) => st.put(k, k)));
    expect(await collect(st.list('k/'))).toEqual([...keys].sort());
  });

  test('putStream of a multi-part stream reads back byte-identical (get, getStream, getRange)', async () => {
    const st = store(`s3://${BUCKET}/big`, {}, { partSize: 5 * MiB });
    const data = bytes(12 * MiB + 12345, 7);
    // Odd-sized chunks, so parts never line up with the source's chunks.
    const chunks: Buffer[] = [];
    for (let off = 0; off < data.length; off += 777_777) chunks.push(data.subarray(off, off + 777_777));
    await st.putStream('parts/blob.bin', Readable.from(chunks));

    expect(await st.size('parts/blob.bin')).toBe(data.length);
    const back = await st.get('parts/blob.bin');
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));

    const streamed: Buffer[] = [];
    for await (const c of st.getStream('parts/blob.bin')) streamed.push(c as Buffer);
    expect(sha(Buffer.concat(streamed))).toBe(sha(data));

    // A Parquet-style footer read: the last 8 bytes, then a range across a part boundary.
    const size = await st.size('parts/blob.bin');
    expect(Buffer.from(await st.getRange('parts/blob.bin', size - 8, size))).toEqual(data.subarray(size - 8));
    const a = 5 * MiB - 100;
    expect(Buffer.from(await st.getRange('parts/blob.bin', a, a + 300))).toEqual(data.subarray(a, a + 300));
  });

  test('getRange edges: to the end, past the end, empty', async () => {
    const st = store(`s3://${BUCKET}/range`);
    await st.put('r.bin', '0123456789');
    expect(Buffer.from(await st.getRange('r.bin', 0, 4)).toString()).toBe('0123');
    expect(Buffer.from(await st.getRange('r.bin', 6)).toString()).toBe('6789');
    expect(Buffer.from(await st.getRange('r.bin', 8, 100)).toString()).toBe('89');
    expect((await st.getRange('r.bin', 3, 3)).length).toBe(0);
    expect((await st.getRange('r.bin', 10, 20)).length).toBe(0);
    await expect(st.getRange('r.bin', 5, 4)).rejects.toThrow(RangeError);
    await expect(st.getRange('r.bin', -1, 4)).rejects.toThrow(RangeError);
    const err = await failure(st.getRange('missing.bin', 0, 4));
    expect(isPermanent(err)).toBe(true);
  });

  test('putFile uploads a local file (small and multipart) and removes it', async () => {
    const st = store(`s3://${BUCKET}/files`, {}, { partSize: 5 * MiB });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-s3-test-'));
    try {
      const small = path.join(dir, 'small.txt');
      await writeFile(small, 'small file');
      await st.putFile('out/small.txt', small);
      expect(Buffer.from(await st.get('out/small.txt')).toString()).toBe('small file');
      await expect(stat(small)).rejects.toMatchObject({ code: 'ENOENT' });

      // Past the multipart threshold (64 MiB default → at least partSize).
      const big = path.join(dir, 'big.bin');
      const data = bytes(66 * MiB, 3);
      await writeFile(big, data);
      await st.putFile('out/big.bin', big);
      expect(sha(await st.get('out/big.bin'))).toBe(sha(data));
      await expect(stat(big)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing object is a PermanentError naming the s3 URI and the operation', async () => {
    const st = store(`s3://${BUCKET}/run-1`);
    for (const [op, p] of [
      ['get', st.get('shards/nope.json')],
      ['size', st.size('shards/nope.json')],
    ] as const) {
      const err = await failure(p);
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.name).toBe('PermanentError');
      expect(err.message).toContain(`s3://${BUCKET}/run-1/shards/nope.json`);
      expect(err.message).toContain(op);
    }
    const streamErr = await failure(
      pipeline(st.getStream('shards/nope.json'), async (src: AsyncIterable<unknown>) => {
        for await (const _ of src);
      }),
    );
    expect(isPermanent(streamErr)).toBe(true);
    expect(streamErr.message).toContain(`s3://${BUCKET}/run-1/shards/nope.json`);

    const noBucket = store('s3://no-such-bucket/x');
    const err = await failure(noBucket.put('a', 'b'));
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toContain('s3://no-such-bucket/x/a');
    expect(err.message).toContain('NoSuchBucket');
  });

  test('errors never carry the secret access key or the key id', async () => {
    const secret = 'NEXTLONG-TEST-SECRET-7f3a9c2e5b1d';
    const keyId = 'AKIANEXTLONGTESTKEYID';
    const leaks = (err: Error) => `${err.message}\n${err.stack}\n${inspect(err, { depth: 10, showHidden: true })}\n${JSON.stringify(err)}`;

    // s3rver answers an unknown key id with 403 InvalidAccessKeyId (it does not check V4 signatures).
    const wrongKey = store(`s3://${BUCKET}/run-1`, { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret, AWS_MAX_ATTEMPTS: '1' });
    const errs = [
      await failure(wrongKey.put('x.json', '{}')),
      await failure(wrongKey.get('x.json')),
      await failure(wrongKey.exists('x.json')),
      await failure(wrongKey.size('x.json')),
      await failure(collect(wrongKey.list(''))),
      await failure(wrongKey.putStream('x.bin', Readable.from([bytes(6 * MiB)]))),
    ];
    for (const err of errs) {
      expect(isPermanent(err)).toBe(true);
      expect(err.message).toMatch(/s3:\/\/nextlong-test\/run-1/);
      expect(err.message).toMatch(/403/);
      expect(leaks(err)).not.toContain(secret);
      expect(leaks(err)).not.toContain(keyId);
    }

    // A server that echoes the credentials back in its error message: they are scrubbed.
    const server: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>` +
          `<Message>denied for ${req.headers.authorization} with secret ${secret}</Message></Error>`,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const echo = store(`s3://${BUCKET}/run-1`, {
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: keyId,
        AWS_SECRET_ACCESS_KEY: secret,
      });
      const err = await failure(echo.get('x.json'));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.message).toContain(`s3://${BUCKET}/run-1/x.json`);
      expect(err.message).toContain('AccessDenied');
      expect(err.message).toContain('***');
      expect(leaks(err)).not.toContain(secret);
      expect(leaks(err)).not.toContain(keyId);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('path-style addressing with AWS_ENDPOINT_URL (unless NEXTLONG_S3_PATH_STYLE=false)', async () => {
    const port = new URL(s3.endpoint).port;
    const st = store(`s3://${BUCKET}/ps`, { AWS_ENDPOINT_URL: `http://localhost:${port}` });
    expect(await st.client.config.forcePathStyle).toBe(true);
    const seen: { hostname: string; path: string }[] = [];
    st.client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { hostname: string; path: string };
        seen.push({ hostname: req.hostname, path: req.path });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordAddressing' },
    );
    await st.put('a/b.txt', 'x');
    expect(seen[0]).toEqual({ hostname: 'localhost', path: `/${BUCKET}/ps/a/b.txt` });

    const vhost = store(`s3://${BUCKET}/ps`, { AWS_ENDPOINT_URL: `http://localhost:${port}`, NEXTLONG_S3_PATH_STYLE: 'false' });
    expect(await vhost.client.config.forcePathStyle).toBe(false);
  });

  test('checksums are WHEN_REQUIRED with a custom endpoint: a raw streamed PutObject is stored intact', async () => {
    const st = store(`s3://${BUCKET}/cks`);
    expect(await st.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    const data = bytes(MiB + 3, 11);
    await st.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cks/raw.bin', Body: Readable.from([data]), ContentLength: data.length }),
    );
    expect(sha(await st.get('raw.bin'))).toBe(sha(data));
  });

  test('AbortSignal: already aborted, mid upload, mid download', async () => {
    const st = store(`s3://${BUCKET}/abort`, {}, { partSize: 5 * MiB });
    await st.put('present.bin', bytes(8 * MiB, 5));

    const pre = AbortSignal.abort();
    for (const p of [
      st.put('x', 'y', pre),
      st.get('present.bin', pre),
      st.exists('present.bin', pre),
      st.delete('x', pre),
      st.getRange('present.bin', 0, 1, pre),
    ]) {
      expect((await failure(p)).name).toBe('AbortError');
    }
    expect((await failure(collect(st.list('', pre)))).name).toBe('AbortError');

    // An upload whose source never ends: only the signal can finish it.
    const ac = new AbortController();
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 64 * 1024;
        if (sent === 12 * MiB) setTimeout(() => ac.abort(), 10);
        if (sent <= 12 * MiB) this.push(bytes(64 * 1024, sent));
      },
    });
    const t0 = Date.now();
    const upErr = await failure(st.putStream('never.bin', endless, ac.signal));
    expect(upErr.name).toBe('AbortError');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await st.exists('never.bin')).toBe(false);

    // A download cut off after its first chunk.
    const dl = new AbortController();
    const stream = st.getStream('present.bin', dl.signal);
    const downErr = await failure(
      (async () => {
        for await (const _ of stream) dl.abort();
      })(),
    );
    expect(downErr.name).toBe('AbortError');
  });

  test('network failures are RetryableError', async () => {
    const dead = await startS3rver({ buckets: [BUCKET] });
    const env = { ...dead.env, NEXTLONG_RETRY_BUDGET_MS: '0' };
    await dead.stop();
    const st = new S3ObjectStore(`s3://${BUCKET}/x`, { env });
    stores.push(st);
    const err = await failure(st.get('a'));
    expect(err).toBeInstanceOf(RetryableError);
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain(`s3://${BUCKET}/x/a`);
  });

  test('5xx and throttling are retried visibly (target s3, reason = status) within the budget, then RetryableError', async () => {
    let hits = 0;
    const retries: RetryEvent[] = [];
    const lines: string[] = [];
    const stopRetries = onRetry((e) => retries.push(e));
    setRetryLog((l) => lines.push(l));
    const server: Server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const st = store(`s3://${BUCKET}/slow`, { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, NEXTLONG_RETRY_BUDGET_MS: '1500' });
      const err = await failure(st.put('a.json', '{}'));
      expect(err).toBeInstanceOf(RetryableError);
      expect(err.message).toContain('SlowDown');
      expect(err.message).toContain(`s3://${BUCKET}/slow/a.json`);
      // every attempt is ours (AWS_MAX_ATTEMPTS defaults to 1), and every retry is reported
      expect(hits).toBeGreaterThanOrEqual(2);
      expect(retries).toHaveLength(hits - 1);
      expect(retries.every((e) => e.target === 's3' && e.reason === '503')).toBe(true);
      expect(lines.filter((l) => /^retry s3 \(503\) attempt \d+/.test(l))).toHaveLength(hits - 1);
    } finally {
      stopRetries();
      setRetryLog((l) => process.stderr.write(`${l}\n`));
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
