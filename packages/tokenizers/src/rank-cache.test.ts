import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import llama3 from 'llama3-tokenizer-js';
import { fixturePath, repoRoot, tempDir } from '@nextlong/testing';
import { createLlama3 } from './llama3.js';
import { cachedRanks, rankCachePath } from './rank-cache.js';

const valid = (text: string) => text.endsWith(' 2');
const RANKS = 'YQ== 0\nYg== 1\nYWI= 2';

describe('rank cache', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const saved = process.env.NEXTLONG_CACHE;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-rank-cache-'));
    process.env.NEXTLONG_CACHE = dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.NEXTLONG_CACHE;
    else process.env.NEXTLONG_CACHE = saved;
    await cleanup();
  });

  test('builds once, then every later load reads the file', () => {
    let builds = 0;
    const build = () => (builds++, RANKS);
    expect(cachedRanks('t', build, valid)).toBe(RANKS);
    expect(cachedRanks('t', build, valid)).toBe(RANKS);
    expect(builds).toBe(1);
    expect(rankCachePath('t')).toBe(path.join(dir, 'tokenizers', 't.tiktoken'));
    expect(readFileSync(rankCachePath('t'), 'utf8')).toBe(RANKS);
    expect(readdirSync(path.dirname(rankCachePath('t')))).toEqual(['t.tiktoken']); // no temp file left
  });

  test('a file that fails the check is rebuilt and replaced', () => {
    cachedRanks('t', () => RANKS, valid);
    writeFileSync(rankCachePath('t'), 'YQ== 0\nYg=');
    let builds = 0;
    expect(cachedRanks('t', () => (builds++, RANKS), valid)).toBe(RANKS);
    expect(builds).toBe(1);
    expect(readFileSync(rankCachePath('t'), 'utf8')).toBe(RANKS);
  });

  test('a cache folder that cannot be created costs only the rebuild', () => {
    const blocker = path.join(dir, 'not-a-folder');
    writeFileSync(blocker, 'x'); // mkdir under a file fails, even for root
    process.env.NEXTLONG_CACHE = blocker;
    let builds = 0;
    expect(cachedRanks('t', () => (builds++, RANKS), valid)).toBe(RANKS);
    expect(cachedRanks('t', () => (builds++, RANKS), valid)).toBe(RANKS);
    expect(builds).toBe(2);
  });

  test('Llama-3 from a cold and from a warm cache: the same ids as llama3-tokenizer-js', () => {
    const text = readFileSync(fixturePath('docs-a.slice.jsonl'), 'utf8').slice(0, 5_000);
    const cold = createLlama3();
    const file = readdirSync(path.join(dir, 'tokenizers'));
    expect(file).toEqual([expect.stringMatching(/^llama3-llama3-tokenizer-js-[\d.]+\.tiktoken$/)]);
    const warm = createLlama3();
    const reference = llama3.encode(text, { bos: false, eos: false });
    expect(Array.from(cold.encode(text))).toEqual(reference);
    expect(Array.from(warm.encode(text))).toEqual(reference);
  });

  test('processes that start together on a cold cache all get whole ranks, and one file lands', async () => {
    // the built package, as the local executor's shard processes load it
    const entry = path.join(repoRoot, 'packages', 'tokenizers', 'dist', 'index.js');
    const script = `import { createLlama3 } from ${JSON.stringify(entry)}; console.log(createLlama3().encode('Hello world, again').join(','));`;
    const outputs = await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<string>((resolve, reject) => {
            const p = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NEXTLONG_CACHE: dir } });
            let out = '';
            let err = '';
            p.stdout.on('data', (d) => (out += d));
            p.stderr.on('data', (d) => (err += d));
            p.on('error', reject);
            p.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}: ${err}`))));
          }),
      ),
    );
    const expected = llama3.encode('Hello world, again', { bos: false, eos: false }).join(',');
    expect(outputs).toEqual([expected, expected, expected]);
    const files = readdirSync(path.join(dir, 'tokenizers'));
    expect(files).toHaveLength(1);
    expect(readFileSync(path.join(dir, 'tokenizers', files[0]!), 'utf8')).toMatch(/ 127999$/);
  });
});
