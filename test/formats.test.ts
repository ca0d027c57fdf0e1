import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { docColumns, fixturePath, readPartBytes, tempDir, writeParquetFixture } from '@nextlong/testing';
import { compress } from 'zstd-napi';

// The same corpus as JSONL, .jsonl.gz, .jsonl.zst and Parquet (several row groups, snappy and
// zstd) gives byte-identical sequence output; a broken Parquet file is one reject, not a failure.
describe('input formats', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-formats-')));
  afterAll(() => cleanup());

  const run = (input: string, out: string) =>
    runLocal(parseRunConfig({ input: [input], out, targetTokens: 4096, sequences: 40, seed: 3, concurrency: 1 }), { quiet: true });

  /** All sequence lines of a run in plan order (part names carry the input's shard ids). */
  const sequencesOf = async (out: string) => Object.values(await readPartBytes(out)).join('');

  test('JSONL, gz, zst and Parquet give byte-identical sequences', async () => {
    const raw = await readFile(fixturePath('docs-a.slice.jsonl'));
    const docs = raw
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; text: string });
    const variants: Record<string, (f: string) => Promise<unknown>> = {
      'docs.jsonl': (f) => writeFile(f, raw),
      'docs.jsonl.gz': (f) => writeFile(f, gzipSync(raw)),
      'docs.jsonl.zst': (f) => writeFile(f, compress(raw)),
      'snappy.parquet': (f) => writeParquetFixture(f, { columns: docColumns(docs), codec: 'SNAPPY', rowGroupSize: 25 }),
      'zstd.parquet': (f) => writeParquetFixture(f, { columns: docColumns(docs), codec: 'ZSTD', rowGroupSize: 30 }),
    };
    const outputs: Record<string, string> = {};
    for (const [name, write] of Object.entries(variants)) {
      const inDir = path.join(dir, name.replace(/\./g, '_'));
      await mkdir(inDir, { recursive: true });
      await write(path.join(inDir, name));
      const m = await run(inDir, path.join(inDir, 'out'));
      expect(m.counts.documents_read).toBe(80);
      outputs[name] = await sequencesOf(path.join(inDir, 'out'));
    }
    expect(outputs['docs.jsonl']!.length).toBeGreaterThan(10_000);
    for (const name of Object.keys(variants)) expect({ name, out: outputs[name] }).toEqual({ name, out: outputs['docs.jsonl'] });
  });

  test('a truncated Parquet file beside a good one: one reject, the run finishes', async () => {
    const inDir = path.join(dir, 'mixed');
    await mkdir(inDir, { recursive: true });
    const docs = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; text: string });
    await writeParquetFixture(path.join(inDir, 'good.parquet'), { columns: docColumns(docs.slice(0, 40)), rowGroupSize: 20 });
    const full = path.join(dir, 'full.parquet');
    await writeParquetFixture(full, { columns: docColumns(docs.slice(40)), rowGroupSize: 20 });
    const bytes = await readFile(full);
    await writeFile(path.join(inDir, 'cut.parquet'), bytes.subarray(0, bytes.length >> 1));
    const m = await run(inDir, path.join(inDir, 'out'));
    expect(m.rejects_by_reason).toEqual({ truncated_file: 1 });
    expect(m.counts.documents_read).toBe(41);
    const c = m.counts;
    expect(c.documents_read).toBe(c.sequences_written + c.documents_rejected + c.documents_unsampled + (c.sequences_discarded.too_short ?? 0));
  });
});
