import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, isPermanent } from '@nextlong/core';
import { LocalObjectStore, openObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-store.js';
import { collect, failure } from './test-support.js';

const BUCKET = 'nextlong-test';
// what a client needs to build an S3 store (nothing connects in these tests)
const s3 = { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' } };

describe('openObjectStore', () => {
  test('s3:// gives an S3ObjectStore; paths and file:// a LocalObjectStore; other schemes a ConfigError', () => {
    const s = openObjectStore(`s3://${BUCKET}/p`, { env: s3.env });
    expect(s).toBeInstanceOf(S3ObjectStore);
    (s as S3ObjectStore).close();
    expect(openObjectStore('/tmp/x')).toBeInstanceOf(LocalObjectStore);
    expect(openObjectStore('file:///tmp/x').root).toBe('/tmp/x');
    expect(() => openObjectStore('gs://bucket/x')).toThrow(ConfigError);
    expect(() => openObjectStore('S3://bucket/x')).toThrow(ConfigError);
    expect(() => openObjectStore('')).toThrow(ConfigError);
  });

  test('the local store has getRange, size, putFile and PermanentError for missing objects', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-local-store-'));
    try {
      const st = openObjectStore(path.join(dir, 'store'));
      await st.put('a/r.bin', '0123456789');
      expect(Buffer.from(await st.getRange('a/r.bin', 2, 5)).toString()).toBe('234');
      expect(Buffer.from(await st.getRange('a/r.bin', 7)).toString()).toBe('789');
      expect(Buffer.from(await st.getRange('a/r.bin', 8, 100)).toString()).toBe('89');
      expect((await st.getRange('a/r.bin', 12, 20)).length).toBe(0);
      expect(await st.size('a/r.bin')).toBe(10);

      const src = path.join(dir, 'src.bin');
      await writeFile(src, 'moved');
      await st.putFile('b/moved.bin', src);
      expect(Buffer.from(await st.get('b/moved.bin')).toString()).toBe('moved');
      await expect(stat(src)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readFile(st.localPath!('b/moved.bin'), 'utf8')).toBe('moved');

      for (const p of [st.get('nope'), st.size('nope'), st.getRange('nope', 0, 1)]) {
        const err = await failure(p);
        expect(isPermanent(err)).toBe(true);
        expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
      }
      expect(await collect(st.list(''))).toEqual(['a/r.bin', 'b/moved.bin']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
