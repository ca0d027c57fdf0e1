import path from 'node:path';
import { runLocal } from '@nextlong/pipeline';
import { readPartBytes, tempDir } from '@nextlong/testing';
import { indexFiles, partitionedConfig as config } from './index-run-support.js';

/**
 * The segments index split into several partitions (a small partition size), built with 1 and
 * with 2 threads: the index files and the sequences must be byte-identical (DESIGN §3.4).
 */

describe('index build threads never change the output', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());

  test('a multi-partition index built with 1 and 2 threads: identical files and sequences', async () => {
    const one = path.join(dir, 'one');
    const two = path.join(dir, 'two');
    const m1 = await runLocal(config(one, { indexThreads: 1 }), { quiet: true });
    const m2 = await runLocal(config(two, { indexThreads: 2 }), { quiet: true });
    const a = await indexFiles(one);
    expect(a.desc.partitions.length).toBeGreaterThanOrEqual(4);
    expect(a.desc.partitions.every((p) => p.count <= 100)).toBe(true);
    expect((await indexFiles(two)).files).toEqual(a.files);
    expect(m1.counts.sequences_written).toBeGreaterThan(0);
    expect(m2.counts).toEqual(m1.counts);
    expect(await readPartBytes(two)).toEqual(await readPartBytes(one));
  });
});
