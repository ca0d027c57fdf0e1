import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig, type RunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readPartBytes, tempDir } from '@nextlong/testing';
import type { IndexDescriptor } from '@nextlong/vectors';

/**
 * The segments index split into several partitions (a small partition size), built with 1 and
 * with 2 threads: the index files and the sequences must be byte-identical (DESIGN §3.4).
 */
function config(out: string, extra: Partial<RunConfig>): RunConfig {
  return parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: 4096,
    sequences: 24,
    shardDocs: 30,
    concurrency: 1,
    indexPartitionChunks: 100,
    ...extra,
  });
}

/** sha256 of every index file the descriptor names, and the descriptor itself. */
async function indexFiles(out: string): Promise<{ desc: IndexDescriptor; files: Record<string, string> }> {
  const raw = await readFile(path.join(out, 'index/index.json'), 'utf8');
  const desc = JSON.parse(raw) as IndexDescriptor;
  const files: Record<string, string> = { 'index.json': raw };
  for (const f of [...Object.values(desc.files), ...desc.partitions.map((p) => p.file)]) {
    files[f.name] = createHash('sha256')
      .update(await readFile(path.join(out, 'index', f.name)))
      .digest('hex');
  }
  return { desc, files };
}

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
