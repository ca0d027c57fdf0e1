import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseRunConfig, type RunConfig } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, readSequences, repoRoot, tempDir, writeParquetFixture, docColumns } from '@nextlong/testing';
import { CompressStream } from 'zstd-napi';

// Bad input at its worst: every case ends in a finished run (or one clear configuration error),
// rejects named by file and line, balanced counts and bounded memory.

const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');

interface Reject {
  shard: string;
  file: string;
  line: number;
  reason: string;
  message: string;
}

async function goodLines(n: number, from = 0): Promise<string[]> {
  return (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .slice(from, from + n);
}

async function readRejects(out: string): Promise<Reject[]> {
  const dir = path.join(out, 'rejects');
  const all: Reject[] = [];
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
    for (const l of (await readFile(path.join(dir, f), 'utf8')).trim().split('\n')) all.push(JSON.parse(l) as Reject);
  }
  return all;
}

function expectBalanced(m: Manifest): void {
  const c = m.counts;
  const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
  expect(c.documents_read).toBe(c.sequences_written + discarded + c.documents_rejected + c.documents_unsampled);
}

/** Writes a .zst whose one line `{"id":"bomb","text":"xxx…"}` expands to `gib` GiB, streaming. */
async function writeBomb(file: string, gib: number): Promise<void> {
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from('{"id":"bomb","text":"');
    const block = Buffer.alloc(1 << 20, 0x78);
    for (let i = 0; i < gib * 1024; i++) yield block;
    yield Buffer.from('"}\n{"id":"after-bomb","text":"the record after the bomb"}\n');
  }
  await pipeline(body, new CompressStream({ compressionLevel: 3 }), createWriteStream(file));
}

describe('bad input at its worst', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-worst-')));
  afterAll(() => cleanup());

  const config = (input: string[], out: string, extra: Partial<RunConfig> = {}) =>
    parseRunConfig({ input, out, targetTokens: 4096, concurrency: 1, ...extra });

  test('a decompression bomb (one 2 GiB line from a small .zst) is one too_large reject; peak RSS stays under 1 GiB', async () => {
    const corpus = path.join(dir, 'bomb');
    await mkdir(corpus, { recursive: true });
    await writeFile(path.join(corpus, 'good.jsonl'), (await goodLines(20)).join('\n') + '\n');
    const bomb = path.join(corpus, 'bomb.jsonl.zst');
    await writeBomb(bomb, 2);
    // the CLI as users run it, in one process (--concurrency 1), reporting its own peak RSS
    const rssFile = path.join(dir, 'rss.txt');
    const preload = path.join(dir, 'rss.mjs');
    await writeFile(
      preload,
      `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`,
    );
    const out = path.join(dir, 'bomb-out');
    const args = [
      '--import',
      pathToFileURL(preload).href,
      BIN,
      'run',
      '--input',
      corpus,
      '--out',
      out,
      '--target-tokens',
      '4096',
      '--concurrency',
      '1',
    ];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).not.toMatch(/Error|heap/i);
    expect(r.status).toBe(0);
    const maxRssKiB = Number(await readFile(rssFile, 'utf8'));
    expect(maxRssKiB).toBeGreaterThan(0);
    expect(maxRssKiB).toBeLessThan(1024 * 1024);
    const m = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(22);
    expect(m.rejects_by_reason).toEqual({ too_large: 1 });
    expect(await readRejects(out)).toEqual([
      expect.objectContaining({
        file: bomb,
        line: 1,
        reason: 'too_large',
        message: expect.stringMatching(/2147483\d+ bytes.*skipped while reading/),
      }),
    ]);
    // the record after the bomb is read and used
    expect((await readSequences(out)).some((s) => s.id === 'after-bomb' || s.segments.some((g) => g.doc_id === 'after-bomb'))).toBe(true);
  });

  test('a single 50 MB line with the default --max-record-chars is skipped while reading, named by file and line', async () => {
    const corpus = path.join(dir, 'big');
    await mkdir(corpus, { recursive: true });
    const good = await goodLines(30);
    const file = path.join(corpus, 'a.jsonl');
    const big = JSON.stringify({ id: 'big', text: 'y'.repeat(50_000_000) });
    await writeFile(file, [...good.slice(0, 10), big, ...good.slice(10)].join('\n') + '\n');
    const out = path.join(dir, 'big-out');
    const m = await runLocal(config([corpus], out), { quiet: true });
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(31);
    expect(m.rejects_by_reason).toEqual({ too_large: 1 });
    const [rej] = await readRejects(out);
    expect(rej).toMatchObject({ file, line: 11, reason: 'too_large' });
    expect(rej!.message).toMatch(/record of 50000022 bytes is over 30065536 bytes \(--max-record-chars 5000000\); skipped while reading/);
  });

  test('NUL: escaped in a string it is text; raw NUL bytes (in a string, or a NUL-padded tail) are malformed_json', async () => {
    const corpus = path.join(dir, 'nul');
    await mkdir(corpus, { recursive: true });
    const good = await goodLines(30);
    const first = JSON.parse(good[0]!) as { id: string; text: string };
    const withEscapedNul = JSON.stringify({ id: 'escaped-nul', text: `NUL here:\u0000 and more. ${first.text}` });
    const rawNul = Buffer.from('{"id":"raw-nul","text":"a\0b"}');
    const file = path.join(corpus, 'a.jsonl');
    // a file whose tail is NUL bytes without a newline, as a crash can leave a preallocated file
    await writeFile(
      file,
      Buffer.concat([Buffer.from([withEscapedNul, ...good.slice(1)].join('\n') + '\n'), rawNul, Buffer.from('\n'), Buffer.alloc(4096)]),
    );
    const out = path.join(dir, 'nul-out');
    const m = await runLocal(config([corpus], out), { quiet: true });
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(32);
    expect(m.rejects_by_reason).toEqual({ malformed_json: 2 });
    expect((await readRejects(out)).map((r) => [r.file, r.line, r.reason])).toEqual([
      [file, 31, 'malformed_json'],
      [file, 32, 'malformed_json'],
    ]);
    const seq = (await readSequences(out)).find((s) => s.id === 'escaped-nul');
    expect(seq?.text).toContain('NUL here:\u0000 and more.');
  });

  test('deeply nested JSON (100k and 1M levels) is a reject or a record, never a crash', async () => {
    const corpus = path.join(dir, 'deep');
    await mkdir(corpus, { recursive: true });
    const good = await goodLines(30);
    const file = path.join(corpus, 'a.jsonl');
    const unbalanced = '['.repeat(100_000);
    const deepArray = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const deepField = `{"id":"deep-field","text":${JSON.stringify((JSON.parse(good[0]!) as { text: string }).text)},"meta":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    await writeFile(file, [unbalanced, deepArray, deepField, ...good.slice(1)].join('\n') + '\n');
    const out = path.join(dir, 'deep-out');
    const m = await runLocal(config([corpus], out), { quiet: true });
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(32);
    expect((await readRejects(out)).map((r) => [r.line, r.reason])).toEqual([
      [1, 'malformed_json'],
      [2, 'not_an_object'],
    ]);
    expect((await readSequences(out)).some((s) => s.id === 'deep-field')).toBe(true);
  });

  test('an empty or blank-only file: alone it is a configuration error naming it; beside others it gives 0 records', async () => {
    const corpus = path.join(dir, 'empty');
    await mkdir(corpus, { recursive: true });
    const empty = path.join(corpus, 'empty.jsonl');
    const blank = path.join(corpus, 'blank.jsonl');
    // 0-byte compressed and Parquet files too: no records, not broken files
    const others = ['empty.jsonl.zst', 'empty.jsonl.gz', 'empty.parquet'].map((f) => path.join(corpus, f));
    for (const f of [empty, ...others]) await writeFile(f, '');
    await writeFile(blank, '  \n\t\r\n\n   ');
    for (const only of [empty, blank, ...others]) {
      await expect(runLocal(config([only], path.join(dir, 'empty-out-x')), { quiet: true })).rejects.toThrow(
        expect.objectContaining({ name: 'ConfigError', message: `input: ${only} holds no records` }),
      );
    }
    await writeFile(path.join(corpus, 'good.jsonl'), (await goodLines(20)).join('\n') + '\n');
    const m = await runLocal(config([corpus], path.join(dir, 'empty-out')), { quiet: true });
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(20);
    expect(m.counts.documents_rejected).toBe(0);
  });

  test('Parquet: a corrupt footer is one file-level corrupt_file reject; a non-string text column rejects each row', async () => {
    const corpus = path.join(dir, 'parquet');
    await mkdir(corpus, { recursive: true });
    const docs = (await goodLines(30)).map((l) => JSON.parse(l) as { id: string; text: string });
    await writeParquetFixture(path.join(corpus, 'good.parquet'), { columns: docColumns(docs.slice(0, 20)) });
    // footer: the Thrift metadata garbled, its length and the PAR1 magic intact
    const corrupt = path.join(corpus, 'corrupt.parquet');
    await writeParquetFixture(corrupt, { columns: docColumns(docs.slice(20)) });
    const bytes = await readFile(corrupt);
    const footerLen = bytes.readUInt32LE(bytes.length - 8);
    bytes.fill(0xff, bytes.length - 8 - footerLen, bytes.length - 8);
    await writeFile(corrupt, bytes);
    // text column of numbers (INT32)
    const numbers = path.join(corpus, 'numbers.parquet');
    await writeParquetFixture(numbers, {
      columns: [
        { name: 'text', data: [1, 2, 3, 4], type: 'INT32' },
        { name: 'id', data: ['n1', 'n2', 'n3', 'n4'], type: 'STRING' },
      ],
    });
    // a whole file of bad rows fails its shard (a wrong --text-field, usually), clearly
    await expect(runLocal(config([corpus], path.join(dir, 'pq-strict')), { quiet: true })).rejects.toThrow(
      /4 of 4 records are bad \(text_not_string 4\)/,
    );
    const out = path.join(dir, 'pq-out');
    const m = await runLocal(config([corpus], out, { maxBadShare: 1 }), { quiet: true });
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(25);
    expect(m.rejects_by_reason).toEqual({ corrupt_file: 1, text_not_string: 4 });
    const rejects = await readRejects(out);
    expect(rejects.filter((r) => r.file === corrupt)).toEqual([expect.objectContaining({ line: 1, reason: 'corrupt_file' })]);
    expect(rejects.filter((r) => r.file === numbers).map((r) => [r.line, r.reason])).toEqual([
      [1, 'text_not_string'],
      [2, 'text_not_string'],
      [3, 'text_not_string'],
      [4, 'text_not_string'],
    ]);
    expect(m.counts.sequences_written + m.counts.sequences_discarded.too_short!).toBe(20);
  });
});
