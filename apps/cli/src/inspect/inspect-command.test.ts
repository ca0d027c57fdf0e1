import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@nextlong/testing';
import { main } from '../main.js';

/** Runs `nextlong <args>` in-process; returns the exit status and what it wrote to stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('nextlong inspect: usage errors exit 2 with one clear line', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-inspect-')));
  afterAll(() => cleanup());

  test.each([
    [[], /inspect needs --out/],
    [['--out', 'X', '--sequences', ','], /--sequences/],
    [['--out', 'X', '--budget-mb', 'lots'], /--budget-mb: expected a number/],
    [['--out', 'X', '--bogus'], /bogus/],
  ])('%j', async (args, msg) => {
    const r = await cli(['inspect', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a folder without a run names the folder', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const r = await cli(['inspect', '--out', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no run in ${empty} (run.json not found)`);
  });
});
