import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isConfigError } from '@nextlong/core';
import { runIdOf, runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, readPartBytes, readSequences, repoRoot, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import { indexFiles, PARTITIONED_T as T, partitionedConfig as config } from './index-run-support.js';

/**
 * `vectorType` (f16, i8) of the segments index on whole runs: exact T, balanced counts, the same
 * files and sequences for 1 and 2 index threads; f32 (the default) is the index as it always was.
 */

function balanced(m: Manifest): boolean {
  const c = m.counts;
  const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
  return c.documents_read === c.sequences_written + discarded + c.documents_unsampled + c.documents_rejected + (c.documents_merged ?? 0);
}

describe('vector types of the segments index', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());

  test.each([
    ['f16', 2],
    ['i8', 1],
  ] as const)('%s: exact T, balanced counts, identical files and sequences for 1 and 2 index threads', async (type, width) => {
    const one = path.join(dir, `${type}-1`);
    const two = path.join(dir, `${type}-2`);
    const m1 = await runLocal(config(one, { vectorType: type, indexThreads: 1 }), { quiet: true });
    const m2 = await runLocal(config(two, { vectorType: type, indexThreads: 2 }), { quiet: true });
    const a = await indexFiles(one);
    expect(a.desc).toMatchObject({ version: 3, vectorType: type });
    expect(a.desc.partitions.length).toBeGreaterThanOrEqual(4);
    expect(a.desc.files.vectors.bytes).toBe(a.desc.chunks * a.desc.dim * width);
    expect((await stat(path.join(one, 'index', `vectors.${type}`))).size).toBe(a.desc.chunks * a.desc.dim * width);
    expect((await indexFiles(two)).files).toEqual(a.files);
    expect(m2.counts).toEqual(m1.counts);
    expect(await readPartBytes(two)).toEqual(await readPartBytes(one));
    expect(balanced(m1)).toBe(true);
    expect(m1.counts.sequences_written).toBeGreaterThan(0);
    expect(m1.config.vectorType).toBe(type);
    const tok = loadTokenizer('llama3');
    const recs = await readSequences(one);
    expect(recs.length).toBe(m1.counts.sequences_written);
    for (const r of recs) {
      expect(r.num_tokens).toBe(T);
      expect(tok.encode(r.text).length).toBe(T);
    }
    expect(recs.filter((r) => r.segments.some((s) => s.type === 'negative')).length).toBeGreaterThan(recs.length / 2);
  });

  test('f32 (the default) writes the index as before; another type is another run', async () => {
    const def = path.join(dir, 'f32-default');
    const explicit = path.join(dir, 'f32-explicit');
    const m = await runLocal(config(def, { indexThreads: 1 }), { quiet: true });
    await runLocal(config(explicit, { vectorType: 'f32', indexThreads: 2 }), { quiet: true });
    const a = await indexFiles(def);
    expect(a.desc.version).toBe(2);
    expect('vectorType' in a.desc).toBe(false);
    expect(a.desc.files.vectors.name).toBe('vectors.f32');
    expect((await indexFiles(explicit)).files).toEqual(a.files);
    expect(await readPartBytes(explicit)).toEqual(await readPartBytes(def));
    expect(balanced(m)).toBe(true);
    // The type is part of the run id: resuming with another type is refused like any config change.
    expect(runIdOf(config(def, { vectorType: 'f16' }))).not.toBe(runIdOf(config(def)));
    expect(runIdOf(config(def, { vectorType: 'f32' }))).toBe(runIdOf(config(def)));
    await expect(runLocal(config(def, { vectorType: 'i8' }), { quiet: true })).rejects.toThrow(
      /holds another run .* with a different configuration/,
    );
  });

  test('with vectors: qdrant a vector type is a configuration error naming the Qdrant options', () => {
    let err: unknown;
    try {
      config(path.join(dir, 'q'), { vectors: 'qdrant', vectorType: 'i8' });
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /vectorType: i8 is for vectors: segments; with qdrant use --qdrant-datatype float16 or --qdrant-quantization int8/,
    );
    expect(() => config(path.join(dir, 'q'), { vectors: 'qdrant', vectorType: 'f32' })).not.toThrow();
    expect(() => config(path.join(dir, 'q'), { vectorType: 'f8' as 'f16' })).toThrow(/vectorType/);
  });

  test('the CLI: --vector-type with --vectors qdrant exits 2 (the built binary)', () => {
    const bin = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'run',
        '--input',
        fixturePath('docs-a.slice.jsonl'),
        '--out',
        path.join(dir, 'cli'),
        '--vectors',
        'qdrant',
        '--vector-type',
        'f16',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, QDRANT_URL: 'http://127.0.0.1:9' },
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--qdrant-datatype float16 or --qdrant-quantization int8/);
  });
});
