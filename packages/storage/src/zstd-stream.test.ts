import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@nextlong/testing';
import { compress } from 'zstd-napi';
import { planFileShards } from './inputs.js';
import { readShard } from './shard-reader.js';
import { recycleOutput, zstdDecompress } from './zstd-stream.js';

/** Deterministic text that zstd cannot shrink to nothing: words from a seeded generator, multi-byte characters included. */
function text(seed: number, chars: number): string {
  const words = ['alpha', 'βήτα', 'ガンマ', 'δ', '😀', 'x"y', 'back\\slash', 'tab\tend', 'line\u2028sep', 'ok'];
  let s = '';
  for (let x = seed; s.length < chars;) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += words[x % words.length]! + (x % 7 === 0 ? '\n' : ' ');
  }
  return s.slice(0, chars);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

describe('zstdDecompress output buffers', () => {
  test('a buffer handed back is refilled by the next output; one handed back twice, or not ours, is never shared', async () => {
    const data = Buffer.from(text(1, 600_000));
    const it = zstdDecompress(once(compress(data)));
    const a = (await it.next()).value as Buffer;
    const got = [Buffer.from(a)];
    recycleOutput(a);
    recycleOutput(a);
    recycleOutput(Buffer.allocUnsafeSlow(a.buffer.byteLength));
    const b = (await it.next()).value as Buffer;
    got.push(Buffer.from(b));
    const c = (await it.next()).value as Buffer;
    got.push(Buffer.from(c));
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(b.buffer);
    for await (const d of it) got.push(Buffer.from(d));
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  test('readShard recycles: lines longer than a buffer and characters cut at buffer ends read as JSON.parse reads them', async () => {
    const { dir, cleanup } = await tempDir('nextlong-zstd-stream-');
    try {
      // lengths from a few bytes to several 128 KiB buffers, so line ends fall everywhere within them
      const lines: string[] = [];
      for (let i = 0; i < 120; i++) {
        const len = i % 17 === 0 ? 300_000 + i * 997 : ((i * 7919) % 20_000) + 1;
        if (i % 23 === 5) lines.push('   ');
        else if (i % 31 === 7) lines.push('{"id": 1, "text": ');
        else lines.push(JSON.stringify(i % 2 ? { id: `d${i}`, text: text(i, len) } : { text: text(i, len), id: i, extra: [i] }));
      }
      const file = path.join(dir, 'docs.jsonl.zst');
      await writeFile(file, compress(Buffer.from(lines.join('\n') + '\n')));
      const [shard] = await planFileShards(file, 1e9);
      const got: unknown[] = [];
      for await (const item of readShard(shard!, { textField: 'text', idField: 'id', maxRecordChars: 1_000_000 })) {
        got.push('doc' in item ? [item.line, item.ordinal, item.doc.id, item.doc.text] : [item.line, item.ordinal, item.bad.reason]);
      }
      const want: unknown[] = [];
      let ordinal = 0;
      lines.forEach((l, i) => {
        if (!l.trim()) return;
        try {
          const o = JSON.parse(l) as { id: string | number; text: string };
          want.push([i + 1, ordinal++, String(o.id), o.text]);
        } catch {
          want.push([i + 1, ordinal++, 'malformed_json']);
        }
      });
      expect(got).toEqual(want);
    } finally {
      await cleanup();
    }
  });
});
