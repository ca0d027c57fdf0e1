import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readSequences, tempDir } from '@nextlong/testing';
import { compress } from 'zstd-napi';

async function goodLines(n: number): Promise<string[]> {
  return (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n').slice(0, n);
}

describe('bad input never costs work already done', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-bad-')));
  afterAll(() => cleanup());

  test('every kind of bad record goes to rejects with its reason; the run finishes and counts balance', async () => {
    const corpus = path.join(dir, 'corpus');
    const good = await goodLines(40);
    const bad = [
      '{"id": "broken", "text": "unterminated',
      JSON.stringify({ id: 'no-text', body: 'x' }),
      JSON.stringify({ id: 'num-text', text: 42 }),
      JSON.stringify({ id: 'empty', text: '   ' }),
      JSON.stringify({ id: 'huge', text: 'x'.repeat(300_000) }),
      '["an", "array"]',
      JSON.stringify({ id: { nested: true }, text: 'bad id' }),
    ];
    const lines = [...good.slice(0, 20), ...bad, ...good.slice(20)];
    const utf8 = Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a])]);
    await mkdir(corpus, { recursive: true });
    await writeFile(path.join(corpus, 'a.jsonl'), utf8);
    // a compressed file cut short: its complete lines are used, the break is one reject
    const bLines = (await goodLines(80)).slice(40);
    const z = compress(Buffer.from(bLines.join('\n') + '\n'));
    await writeFile(path.join(corpus, 'b.jsonl.zst'), z.subarray(0, Math.floor(z.length * 0.7)));

    const out = path.join(dir, 'out');
    const m = await runLocal(parseRunConfig({ input: [corpus], out, targetTokens: 4096, maxRecordChars: 200_000, concurrency: 1 }), { quiet: true });
    const c = m.counts;
    const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
    expect(c.documents_read).toBe(c.sequences_written + discarded + c.documents_rejected + c.documents_unsampled);
    expect(m.rejects_by_reason).toMatchObject({
      malformed_json: 1,
      missing_text: 1,
      text_not_string: 1,
      empty_text: 1,
      too_large: 1,
      not_an_object: 1,
      bad_id: 1,
      invalid_utf8: 1,
      truncated_file: 1,
    });
    const rejects: { shard: string; line: number; reason: string; file: string }[] = [];
    for (const f of await readdir(path.join(out, 'rejects'))) {
      for (const l of (await readFile(path.join(out, 'rejects', f), 'utf8')).trim().split('\n')) rejects.push(JSON.parse(l));
    }
    expect(rejects).toHaveLength(c.documents_rejected);
    expect(rejects.find((r) => r.reason === 'malformed_json')).toMatchObject({ line: 21, file: path.join(corpus, 'a.jsonl') });
    expect(rejects.find((r) => r.reason === 'invalid_utf8')!.line).toBe(48);
    expect(rejects.find((r) => r.reason === 'truncated_file')!.file).toBe(path.join(corpus, 'b.jsonl.zst'));
    // the good documents of the truncated file still became sequences
    const ids = new Set((await readSequences(out)).map((r) => r.id));
    const firstOfB = (JSON.parse(bLines[0]!) as { id: string }).id;
    expect(ids.has(firstOfB)).toBe(true);
  });

  test('a shard whose share of bad records exceeds the limit fails clearly; good shards are kept', async () => {
    const corpus = path.join(dir, 'corpus2');
    await mkdir(corpus, { recursive: true });
    await writeFile(path.join(corpus, 'good.jsonl'), (await goodLines(30)).join('\n') + '\n');
    await writeFile(path.join(corpus, 'junk.jsonl'), Array.from({ length: 30 }, (_, i) => `junk ${i}`).join('\n') + '\n');
    const out = path.join(dir, 'out2');
    const config = parseRunConfig({ input: [corpus], out, targetTokens: 4096, maxBadShare: 0.2, concurrency: 1 });
    await expect(runLocal(config, { quiet: true })).rejects.toThrow(/shard junk-\w+-1: 30 of 30 records are bad \(malformed_json 30\)/);
    // the embed stage of the good file is done and stays done
    expect((await readdir(path.join(out, 'done', 'embed'))).some((f) => f.startsWith('good-'))).toBe(true);
  });
});
