import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { groupSegments } from '@nextlong/core';
import { fixturePath, readPartBytes, repoRoot, tempDir } from '@nextlong/testing';

// The CLI is tested as users run it: the built binary (the test command builds first).
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('nextlong CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-cli-')));
  afterAll(() => cleanup());

  test('--help lists the commands', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'chunk', 'status', 'coordinator', 'worker']) expect(r.stdout).toContain(`nextlong ${c}`);
  });

  test('chunk: one {"id","chunks"} per document, bad lines reported by number and skipped', () => {
    const docs = [
      { id: 'a', text: 'aaaa\nbbbb\ncccc' },
      { id: 'b', text: '\n\nXXXXXXXXXXXX\nyy', title: 'ignored' },
    ];
    const input = [JSON.stringify(docs[0]), '{not json', JSON.stringify(docs[1]), JSON.stringify({ id: 'c', body: 'x' }), JSON.stringify({ text: 'no id' })].join('\n') + '\n';
    const r = cli(['chunk', '--chunk-chars', '8'], input);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2: /);
    expect(r.stderr).toMatch(/line 4: field "text"/);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toEqual([
      { id: 'a', chunks: ['aaaa\nbbbb', 'cccc'] },
      { id: 'b', chunks: groupSegments(docs[1]!.text, 8) },
      { id: 'stdin:5', chunks: ['no id'] },
    ]);
  });

  test('chunk honours --text-field and --id-field and exits 0 on clean input', () => {
    const r = cli(['chunk', '--text-field', 'body', '--id-field', 'key'], JSON.stringify({ key: 7, body: 'hello' }) + '\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ id: '7', chunks: ['hello'] });
  });

  test.each([
    [['run', '--input', '/no/such/corpus.jsonl', '--out', 'X'], /input: \/no\/such\/corpus.jsonl does not exist/],
    [['run', '--input', fixturePath('docs-a.slice.jsonl'), '--out', 'X', '--tokenizer', 'gpt9'], /unknown tokenizer "gpt9"/],
    [['run', '--input', fixturePath('docs-a.slice.jsonl'), '--out', 'X', '--placement', 'middle'], /placement/],
    [['run', '--input', fixturePath('docs-a.slice.jsonl'), '--out', 'X', '--target-tokens', 'lots'], /target-tokens must be a number/],
    [['run', '--input', fixturePath('docs-a.slice.jsonl'), '--out', 'X', '--bogus', '1'], /bogus/],
    [['run', '--out', 'X'], /missing --input/],
  ])('usage or configuration error %# exits 2 with one line before any work', (args, msg) => {
    const out = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = cli(args.map((a) => (a === 'X' ? out : a)));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(path.join(out, 'run.json'))).toBe(false);
  });

  test.each(['coordinator', 'embed-worker', 'synth-worker'])('the thin %s app is the CLI subcommand', (app) => {
    const bin = path.join(repoRoot, 'apps', app, 'bin', `nextlong-${app}.js`);
    const r = spawnSync(process.execPath, [bin], { encoding: 'utf8', env: { ...process.env, REDIS_URL: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('nextlong: missing --redis <url> (or REDIS_URL)');
  });

  test('kill -9 mid-synth, then the same command: same output as an uninterrupted run', async () => {
    const args = (out: string) => ['run', '--input', fixturePath('docs-a.slice.jsonl'), '--out', out, '--target-tokens', '8192', '--shard-docs', '10', '--concurrency', '2'];
    const whole = path.join(dir, 'whole');
    expect(cli(args(whole)).code).toBe(0);

    const killed = path.join(dir, 'killed');
    const child = spawn(process.execPath, [BIN, ...args(killed)], { stdio: 'ignore', detached: true });
    const synthDone = path.join(killed, 'done', 'synth');
    for (let i = 0; i < 600; i++) {
      if (existsSync(synthDone) && (await readdir(synthDone)).length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGKILL'); // the whole process group: parent and shard processes
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(path.join(killed, 'manifest.json'))).toBe(false);

    const again = cli(args(killed));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('sequences');
    expect(await readPartBytes(killed)).toEqual(await readPartBytes(whole));
    const status = cli(['status', '--out', killed]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/synth\s+8\/8 shards \(complete\)/);
  });
});
