import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compress } from 'zstd-napi';
import { planFileShards, type JsonlShardSpec, type ShardSpec } from './inputs.js';
import { PlanThreads } from './plan-threads.js';
import { readShard, type ShardItem } from './shard-reader.js';
import { zstdFrameStarts } from './zstd-frames.js';
import { zstdDecompressed } from './zstd-stream.js';

// A multi-frame .jsonl.zst is cut at frame boundaries: each shard decompresses its own frames
// (and past its end only to finish a line), and the shards together read every record once, in
// order, with the line numbers of the same bytes read as plain JSONL.

const opts = { textField: 'text', idField: 'id', maxRecordChars: 100_000 };

/** Deterministic records of varied length, some blank lines and one bad record among them. */
function corpus(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 97 === 5) lines.push('   ');
    if (i === 1234) lines.push('{"id": "broken", "text": ');
    lines.push(JSON.stringify({ id: `d${i}`, text: `record ${i} `.repeat(20 + ((i * 7919) % 60)) }));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Frames cut at arbitrary byte positions (lines run across frames), with a skippable frame among them. */
function multiFrame(raw: Buffer, frameBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0, k = 0; at < raw.length; at += frameBytes + (k++ % 5) * 1013) {
    parts.push(compress(raw.subarray(at, at + frameBytes + (k % 5) * 1013)));
    if (k === 3) {
      const skip = Buffer.alloc(8 + 16, 7);
      skip.writeUInt32LE(0x184d2a5e, 0);
      skip.writeUInt32LE(16, 4);
      parts.push(skip);
    }
  }
  return Buffer.concat(parts);
}

async function readAll(shards: ShardSpec[]): Promise<ShardItem[]> {
  const out: ShardItem[] = [];
  for (const s of shards) for await (const it of readShard(s, opts)) out.push(it);
  return out;
}
const view = (items: ShardItem[]) => items.map((i) => ('doc' in i ? `${i.line}:${i.doc.id}` : `${i.line}:${i.bad.reason}`));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-zstd-plan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('multi-frame .jsonl.zst', () => {
  test('shards are frame ranges; together they decompress each frame once and yield every record once, in order', async () => {
    const raw = corpus();
    const plain = path.join(dir, 'docs.jsonl');
    const zst = path.join(dir, 'docs.jsonl.zst');
    await writeFile(plain, raw);
    await writeFile(zst, multiFrame(raw, 40_000));

    const expected = await readAll(await planFileShards(plain, 1e9));
    const shards = (await planFileShards(zst, 300)) as JsonlShardSpec[];
    expect(shards.length).toBeGreaterThanOrEqual(8);
    expect(shards.reduce((a, s) => a + s.records, 0)).toBe(expected.length);
    expect(new Set(shards.map((s) => s.id)).size).toBe(shards.length);
    expect(shards[0]!.frameStart).toBe(0);
    for (let i = 1; i < shards.length; i++) expect(shards[i]!.frameStart).toBe(shards[i - 1]!.frameEnd);

    const before = zstdDecompressed.bytes;
    const items = await readAll(shards);
    const decompressed = zstdDecompressed.bytes - before;
    expect(view(items)).toEqual(view(expected));
    // ordinals count each shard's records from 0, as its `records` says
    let k = 0;
    for (const s of shards) for (let o = 0; o < s.records; o++) expect(items[k++]!.ordinal).toBe(o);
    // today's way (every shard from byte 0) would decompress about shards/2 times the data
    expect(decompressed / raw.length).toBeLessThan(1.2);
  });

  test('the plan does not depend on plan threads; a single-frame file is one shard without frame fields', async () => {
    const raw = corpus();
    const zst = path.join(dir, 'threads.jsonl.zst');
    await writeFile(zst, multiFrame(raw, 30_000));
    const streamed = await planFileShards(zst, 250);
    const threads = new PlanThreads(3);
    try {
      const scanned: number[] = [];
      const threaded = await planFileShards(zst, 250, '', { threads, minParallelBytes: 0, onBytes: (n) => scanned.push(n) });
      expect(threaded).toEqual(streamed);
      expect(scanned.reduce((a, b) => a + b, 0)).toBe(multiFrame(raw, 30_000).length);
    } finally {
      await threads.close();
    }
    const single = path.join(dir, 'single.jsonl.zst');
    await writeFile(single, compress(raw));
    const one = await planFileShards(single, 250);
    expect(one).toEqual([
      {
        id: expect.stringMatching(/^single-[0-9a-f]{8}-1$/),
        file: single,
        lineStart: 1,
        lineEnd: raw.toString().split('\n').length + 1,
        records: 3001,
      },
    ]);
  });

  test('frame walk: zstd and skippable frames from headers; a cut or foreign rest is left out', () => {
    const a = compress(Buffer.from('a\n'.repeat(5000)));
    const b = compress(Buffer.from('b\n'.repeat(7000)));
    const skip = Buffer.alloc(8 + 3);
    skip.writeUInt32LE(0x184d2a50, 0);
    skip.writeUInt32LE(3, 4);
    const file = Buffer.concat([a, skip, b]);
    const readAt = (f: Buffer) => (off: number, len: number) => f.subarray(off, off + len);
    expect(zstdFrameStarts(readAt(file), file.length)).toEqual({ starts: [0, a.length, a.length + skip.length], end: file.length });
    const cut = file.subarray(0, file.length - 2);
    expect(zstdFrameStarts(readAt(cut), cut.length)).toEqual({ starts: [0, a.length], end: a.length + skip.length });
    const junk = Buffer.concat([a, Buffer.from('not zstd at all')]);
    expect(zstdFrameStarts(readAt(junk), junk.length)).toEqual({ starts: [0], end: a.length });
  });
});
