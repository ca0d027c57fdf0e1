import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@nextlong/testing';
import { isBooleanKey, resolveRunConfig } from './config-resolve.js';

// Layering flags > environment > config file > defaults, with strings coerced by each setting's schema type.
describe('resolveRunConfig', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-config-')));
  afterAll(() => cleanup());

  test('flags beat the environment, which beats the file, which beats the defaults', async () => {
    const file = path.join(dir, 'a.yaml');
    await writeFile(file, 'input: [corpus]\nout: ../o\nseed: 3\ntarget-tokens: 4096\nchunkChars: 100\n');
    const env = { NEXTLONG_SEED: '5', NEXTLONG_CHUNK_CHARS: '200' };
    const c = resolveRunConfig({ config: file, 'chunk-chars': '300' }, env);
    expect(c.input).toEqual([path.join(dir, 'corpus')]); // relative to the file
    expect(c.out).toBe(path.resolve(dir, '../o'));
    expect(c.targetTokens).toBe(4096);
    expect(c.seed).toBe(5);
    expect(c.chunkChars).toBe(300);
    expect(c.placement).toBe('head');
  });

  test('numbers, integers, booleans, lists and the separator are coerced from strings', () => {
    const env = { NEXTLONG_POOL: 'p1,p2', NEXTLONG_VERIFY_TOKENS: 'yes', NEXTLONG_NEGATIVE_WEIGHT: '2.5' };
    const c = resolveRunConfig({ input: ['a', 'b'], out: 'o', 'max-bad-share': '0.25', separator: '\\n--\\n', 'shard-docs': '7' }, env);
    expect(c.input).toEqual(['a', 'b']);
    expect(c.pool).toEqual(['p1', 'p2']);
    expect(c.verifyTokens).toBe(true);
    expect(c.negativeWeight).toBe(2.5);
    expect(c.maxBadShare).toBe(0.25);
    expect(c.shardDocs).toBe(7);
    expect(c.separator).toBe('\n--\n');
    expect(c.tokenizer).toBe('llama3'); // a string setting stays a string
  });

  test('only boolean settings are switches', () => {
    expect(isBooleanKey('verifyTokens')).toBe(true);
    expect(isBooleanKey('seed')).toBe(false);
    expect(isBooleanKey('tokenizer')).toBe(false);
    expect(isBooleanKey('noSuchKey')).toBe(false);
  });

  test.each([
    [{ 'target-tokens': 'lots' }, {}, /flag: target-tokens must be a number, got "lots"/],
    [{}, { NEXTLONG_SEED: 'x1' }, /environment NEXTLONG_SEED: seed must be a number/],
    [{}, { NEXTLONG_VERIFY_TOKENS: 'maybe' }, /verify-tokens must be true or false/],
    [{ 'target-tokens': '1.5' }, {}, /targetTokens/], // an integer setting refuses a fraction (the schema says why)
  ])('a bad value %# names where it came from', (flags, env, msg) => {
    expect(() => resolveRunConfig({ input: ['a'], out: 'o', ...flags }, env)).toThrow(msg);
  });
});
