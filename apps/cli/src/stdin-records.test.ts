import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import type { Embedder } from '@nextlong/core';
import { embedCommand } from './embed-command.js';

// `nextlong embed | head -n 1`: once the reader closes the pipe the filter stops quietly (exit 0),
// as Unix filters do, instead of crashing on an unhandled EPIPE 'error' event.
test('embed stops quietly when the reader of its output goes away', async () => {
  const head = spawn('head', ['-n', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let got = '';
  head.stdout.on('data', (b: Buffer) => (got += b.toString('utf8')));
  const exited = new Promise((r) => head.on('close', r));
  // our own narrow port: a fixed two-dimensional vector per text
  const embedder: Embedder = {
    name: 'fixed',
    dim: 2,
    embed: async (texts) => texts.map(() => Float32Array.of(0.6, 0.8)),
    close: async () => {},
  };
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `text ${i} `.repeat(20) }) + '\n');
  let errors = '';
  const err = { write: (s: string) => ((errors += s), true) } as unknown as NodeJS.WritableStream;
  const code = await embedCommand(
    embedder,
    { textField: 'text', idField: 'id', group: 16 },
    Readable.from(lines.map((l) => Buffer.from(l))),
    head.stdin,
    err,
  );
  await exited;
  expect(code).toBe(0);
  expect(errors).toBe('');
  expect(JSON.parse(got.trim())).toEqual({ id: 'd0', vector: [Math.fround(0.6), Math.fround(0.8)] });
});
