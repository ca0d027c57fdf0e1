import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startS3rver, tempDir, type S3rverHandle } from '@nextlong/testing';
import { expandInputs } from './expand-inputs.js';
import { S3ObjectStore } from './s3-store.js';

// one tree, written locally and to S3: the same patterns must select the same files on both
const TREE = ['a.jsonl', 'b.jsonl', 'c.jsonl', 'sub/d.jsonl', 'sub/deep/e.jsonl.zst', 'sub/f.parquet', '.hidden.jsonl', 'notes.txt'];
const BUCKET = 'nextlong-globs';

const PATTERNS: [string, string[]][] = [
  ['[ab].jsonl', ['a.jsonl', 'b.jsonl']],
  ['{a,c}.jsonl', ['a.jsonl', 'c.jsonl']],
  ['?.jsonl', ['a.jsonl', 'b.jsonl', 'c.jsonl']],
  ['**/*.jsonl*', ['a.jsonl', 'b.jsonl', 'c.jsonl', 'sub/d.jsonl', 'sub/deep/e.jsonl.zst']],
  ['sub/**/*.{zst,parquet}', ['sub/deep/e.jsonl.zst', 'sub/f.parquet']],
  ['{sub/d,[bc]}.jsonl', ['b.jsonl', 'c.jsonl', 'sub/d.jsonl']],
];

describe('expandInputs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let s3: S3rverHandle;
  const saved = { ...process.env };
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-globs-'));
    s3 = await startS3rver({ buckets: [BUCKET] });
    Object.assign(process.env, s3.env);
    const store = new S3ObjectStore(`s3://${BUCKET}/corpus`, { env: s3.env });
    for (const f of TREE) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), `{"text":"${f}"}\n`);
      await store.put(f, `{"text":"${f}"}\n`);
    }
    store.close();
  });
  afterAll(async () => {
    process.env = saved;
    await s3?.stop();
    await cleanup();
  });

  test.each(PATTERNS)('local glob %s', async (pattern, want) => {
    expect(await expandInputs([path.join(dir, pattern)])).toEqual(want.map((f) => path.join(dir, f)));
  });

  test.each(PATTERNS)('S3 glob %s', async (pattern, want) => {
    expect(await expandInputs([`s3://${BUCKET}/corpus/${pattern}`])).toEqual(want.map((f) => `s3://${BUCKET}/corpus/${f}`));
  });

  test('a folder or a prefix gives every corpus file under it; a file is taken as named', async () => {
    const corpus = ['.hidden.jsonl', 'a.jsonl', 'b.jsonl', 'c.jsonl', 'sub/d.jsonl', 'sub/deep/e.jsonl.zst', 'sub/f.parquet'];
    expect(await expandInputs([dir])).toEqual(corpus.map((f) => path.join(dir, f)));
    expect(await expandInputs([`s3://${BUCKET}/corpus/`])).toEqual(corpus.map((f) => `s3://${BUCKET}/corpus/${f}`));
    expect(await expandInputs([path.join(dir, 'notes.txt'), path.join(dir, 'a.jsonl')])).toEqual([
      path.join(dir, 'a.jsonl'),
      path.join(dir, 'notes.txt'),
    ]);
  });

  test('a path that exists is never read as a glob; overlapping inputs are listed once', async () => {
    const odd = path.join(dir, 'odd', 'x[1].jsonl');
    await mkdir(path.dirname(odd), { recursive: true });
    await writeFile(odd, '{"text":"x"}\n');
    expect(await expandInputs([odd])).toEqual([odd]);
    expect(await expandInputs([path.join(dir, '[ab].jsonl'), path.join(dir, 'a.jsonl')])).toEqual([
      path.join(dir, 'a.jsonl'),
      path.join(dir, 'b.jsonl'),
    ]);
  });

  test('nothing matching, or a missing path, is a configuration error naming the input', async () => {
    await expect(expandInputs([path.join(dir, '[xy].jsonl')], 'pool')).rejects.toThrow(
      expect.objectContaining({ name: 'ConfigError', message: `pool: no corpus files match ${path.join(dir, '[xy].jsonl')}` }),
    );
    await expect(expandInputs([path.join(dir, 'nope.jsonl')])).rejects.toThrow(
      expect.objectContaining({ name: 'ConfigError', message: `input: ${path.join(dir, 'nope.jsonl')} does not exist` }),
    );
    await expect(expandInputs([`s3://${BUCKET}/corpus/{x,y}.jsonl`])).rejects.toThrow(/no corpus files match/);
  });
});
