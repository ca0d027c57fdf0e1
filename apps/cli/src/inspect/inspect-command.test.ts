import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { fixturePath, tempDir } from '@nextlong/testing';
import { main } from '../main.js';
import { readRunState } from './read-run.js';
import { partRecords } from './records.js';

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

describe('nextlong inspect --sequences <ids> on a real run', () => {
  let dir: string;
  let out: string;
  let cleanup: () => Promise<void>;
  let anId: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-inspect-ids-'));
    out = path.join(dir, 'out');
    await runLocal(parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out, targetTokens: 1024, sequences: 4, concurrency: 1 }), { quiet: true });
    const state = await readRunState(openObjectStore(out));
    const part = state.parts.find((p) => p.sequences > 0)!;
    for await (const r of partRecords(openObjectStore(out), part.key)) {
      anId = r.id;
      break;
    }
  }, 300_000);
  afterAll(() => cleanup());

  test('ids of which none is in the run: exit 2 naming them, and no report written', async () => {
    const html = path.join(dir, 'none.html');
    const r = await cli(['inspect', '--out', out, '--html', html, '--sequences', 'nosuchid,other']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no sequence of the run .* has any of the ids nosuchid, other/);
    await expect(stat(html)).rejects.toThrow();
  });

  test('one id found and one not: the report, and a warning naming the missing one', async () => {
    const r = await cli(['inspect', '--out', out, '--html', path.join(dir, 'some.html'), '--sequences', `${anId},nosuchid`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('not found in the run: nosuchid');
  });
});
