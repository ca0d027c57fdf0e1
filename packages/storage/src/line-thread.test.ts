import { isAscii, isUtf8, transcode } from 'node:buffer';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { compress } from 'zstd-napi';
import { planFileShards, type JsonlShardSpec, type ShardSpec } from './inputs.js';
import { LineKind, lineBatcher, type LineBatch } from './line-batcher.js';
import { readLines } from './line-reader.js';
import { lineThreads, threadLineBatches } from './line-thread.js';
import { decodeUtf8 } from './records.js';
import { readShard, type ShardItem } from './shard-reader.js';
import { zstdDecompressed } from './zstd-stream.js';

// readShard of a local .zst on a thread (line-thread.ts) gives what the stream path gives: the
// same items, line numbers, ordinals and rejects, for any bytes and however they are cut.

const deps = { isAscii, isUtf8, transcode, alloc: (n: number) => Buffer.allocUnsafeSlow(n) };

/** A batch's lines as readLines + decodeUtf8 would describe them. */
function describeBatch(b: LineBatch): unknown[] {
  const bytes = Buffer.from(b.bytes);
  const out: unknown[] = [];
  for (let i = 0; i < b.count; i++) {
    const [kind, x, y] = [b.meta[3 * i]!, b.meta[3 * i + 1]!, b.meta[3 * i + 2]!];
    const line = b.firstLine + i;
    if (kind === LineKind.blank) out.push([line, 'blank']);
    else if (kind === LineKind.over) out.push([line, 'over', x]);
    else if (kind === LineKind.invalid) out.push([line, 'invalid']);
    else out.push([line, kind === LineKind.ascii ? bytes.toString('latin1', x, y) : Buffer.from(b.utf16[x]!).toString('utf16le')]);
  }
  return out;
}

function describeRaw(line: number, bytes: Buffer, overLimit?: number): unknown {
  if (overLimit !== undefined) return [line, 'over', overLimit];
  if (!/[^ \t\r]/.test(bytes.toString('latin1'))) return [line, 'blank'];
  const s = decodeUtf8(bytes);
  return s === undefined ? [line, 'invalid'] : [line, s];
}

/** The batcher fed `input` in pieces of at most `size` bytes (short writes included). */
function batcherLines(input: Buffer, size: number, maxBytes: number, batchBytes: number, firstLine = 1): unknown[] {
  const lb = lineBatcher(deps, firstLine, maxBytes, batchBytes);
  const out: unknown[] = [];
  const drain = () => {
    for (let b = lb.take(); b; b = lb.take()) out.push(...describeBatch(b));
  };
  for (let at = 0; at < input.length;) {
    const space = lb.space(size);
    const n = Math.min(size, input.length - at);
    space.set(input.subarray(at, at + n));
    lb.wrote(n);
    at += n;
    if (lb.full()) drain();
  }
  lb.end();
  drain();
  return out;
}

async function streamLines(input: Buffer, maxBytes: number, firstLine = 1): Promise<unknown[]> {
  async function* one() {
    yield input;
  }
  const out: unknown[] = [];
  for await (const l of readLines(one(), firstLine, maxBytes)) out.push(describeRaw(l.line, l.bytes, l.overLimit));
  return out;
}

describe('lineBatcher', () => {
  test('property: any bytes, writes and limits give readLines + decodeUtf8 line for line', async () => {
    const piece = fc.constantFrom('a', 'b', ' ', '\t', '\n', '\r', '\r\n', 'é', 'ÿ', 'β', '😀', '\uFEFF', '{"', '\\', '\xff', '\xc3');
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 120 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 24 }),
        async (pieces, size, limit, batchBytes) => {
          // '\xff' and '\xc3' as raw bytes (invalid or cut UTF-8); the rest as UTF-8
          const input = Buffer.concat(pieces.map((p) => (p === '\xff' || p === '\xc3' ? Buffer.from([p.charCodeAt(0)]) : Buffer.from(p))));
          const maxBytes = limit === 40 ? Infinity : limit;
          expect(batcherLines(input, size, maxBytes, batchBytes, 3)).toEqual(await streamLines(input, maxBytes, 3));
        },
      ),
      { numRuns: 400 },
    );
  });

  test('a line longer than the buffer grows it; a line past the limit is dropped as it comes (one marker)', () => {
    const long = 'x'.repeat(5000);
    const input = Buffer.from(`${long}\n${'y'.repeat(300)}z\nok\n`);
    expect(batcherLines(input, 64, Infinity, 128)).toEqual([
      [1, long],
      [2, `${'y'.repeat(300)}z`],
      [3, 'ok'],
    ]);
    expect(batcherLines(input, 64, 100, 128)).toEqual([
      [1, 'over', 5000],
      [2, 'over', 301],
      [3, 'ok'],
    ]);
  });
});

const opts = { textField: 'text', idField: 'id', maxRecordChars: 2_000 };

/** JSONL with every kind of line: multi-byte text, CRLF, blanks, BOM, bad UTF-8, bad JSON, over-long. */
function corpus(n: number): Buffer {
  const words = ['alpha', 'βήτα', 'ガンマ', 'café', '😀', 'x"y', 'back\\slash', 'tab\tend', 'line\u2028sep', 'ok'];
  const parts: Buffer[] = [];
  for (let i = 0, x = 7; i < n; i++) {
    let text = '';
    const len = (i * 7919) % 1500;
    while (text.length < len) {
      x = (x * 1103515245 + 12345) >>> 0;
      text += words[x % words.length]! + ' ';
    }
    const rec = JSON.stringify({ id: `d${i}`, text: i % 11 === 0 ? text.replace(/[^\x00-\x7f]/g, 'a') : text });
    if (i % 37 === 3) parts.push(Buffer.from('\n'));
    else if (i % 41 === 4) parts.push(Buffer.from(' \t \r\n'));
    else if (i % 43 === 5) parts.push(Buffer.concat([Buffer.from('{"id": 1, "text": "bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    else if (i % 47 === 6) parts.push(Buffer.from('{"id": 1, "text": \n'));
    else if (i % 53 === 7) parts.push(Buffer.from(JSON.stringify({ id: i, text: 'z'.repeat(13_000) }) + '\n'));
    else if (i % 59 === 8) parts.push(Buffer.from(`\uFEFF${rec}\n`));
    else parts.push(Buffer.from(rec + (i % 5 === 0 ? '\r\n' : '\n')));
  }
  return Buffer.concat(parts);
}

/** zstd frames of `frameBytes` each, cut anywhere (lines and characters run across frames). */
function frames(raw: Buffer, frameBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < raw.length; at += frameBytes) parts.push(compress(raw.subarray(at, at + frameBytes)));
  return Buffer.concat(parts);
}

const view = (items: ShardItem[]) =>
  items.map((i) => ('doc' in i ? [i.line, i.ordinal, i.doc.id, i.doc.text] : [i.line, i.ordinal, i.bad.reason, i.bad.message]));

async function readWith(minBytes: number, shards: ShardSpec[]): Promise<ShardItem[]> {
  const saved = lineThreads.minBytes;
  lineThreads.minBytes = minBytes;
  try {
    const out: ShardItem[] = [];
    for (const s of shards) for await (const it of readShard(s, opts)) out.push(it);
    return out;
  } finally {
    lineThreads.minBytes = saved;
  }
}
/** The items of the thread path, checked against the stream path's. */
async function sameBothWays(shards: ShardSpec[]): Promise<ShardItem[]> {
  const threaded = await readWith(0, shards);
  expect(view(threaded)).toEqual(view(await readWith(Infinity, shards)));
  return threaded;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-line-thread-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readShard on a thread', () => {
  test('one frame, many small frames, line-range shards and frame shards: the stream path items', async () => {
    const raw = corpus(3000);
    const one = path.join(dir, 'one.jsonl.zst');
    const many = path.join(dir, 'many.jsonl.zst');
    await writeFile(one, compress(raw));
    await writeFile(many, frames(raw, 997));
    const all = await sameBothWays(await planFileShards(one, 1e9));
    expect(all.filter((i) => 'doc' in i).length).toBeGreaterThan(2500);
    expect(new Set(all.flatMap((i) => ('bad' in i ? [i.bad.reason] : [])))).toEqual(new Set(['empty_text', 'invalid_utf8', 'malformed_json', 'too_large']));
    // shards of one frame all start at byte 0 and stop at their last line (the thread is stopped early)
    expect(view(await sameBothWays(await planFileShards(one, 400)))).toEqual(view(all));
    const frameShards = (await planFileShards(many, 250)) as JsonlShardSpec[];
    expect(frameShards.filter((s) => s.frameStart !== undefined).length).toBeGreaterThan(4);
    const before = zstdDecompressed.bytes;
    const items = await readWith(0, frameShards);
    // frame shards decompress past their range only to finish a line
    expect((zstdDecompressed.bytes - before) / raw.length).toBeLessThan(1.2);
    expect(items.map((i) => [i.line, 'doc' in i ? i.doc.id : i.bad.reason])).toEqual(all.map((i) => [i.line, 'doc' in i ? i.doc.id : i.bad.reason]));
    expect(view(items)).toEqual(view(await readWith(Infinity, frameShards)));
  });

  test('cut short and corrupt .zst: the lines before the break, then one reject naming the file, as on the stream path', async () => {
    const z = compress(corpus(2000));
    const cut = path.join(dir, 'cut.jsonl.zst');
    await writeFile(cut, z.subarray(0, Math.floor(z.length * 0.6)));
    const cutItems = await sameBothWays([shardOf(cut)]);
    expect(cutItems.at(-1)).toMatchObject({ bad: { reason: 'truncated_file', message: expect.stringContaining(`${cut}: line `) } });
    const flipped = Buffer.from(z);
    for (let i = 0; i < 16; i++) flipped[Math.floor(flipped.length / 2) + i * 31] ^= 0xff;
    const bad = path.join(dir, 'flipped.jsonl.zst');
    await writeFile(bad, flipped);
    const badItems = await sameBothWays([shardOf(bad)]);
    expect(badItems.at(-1)).toMatchObject({ bad: { reason: 'corrupt_file', message: expect.stringContaining(`${bad}: line `) } });
  });

  test('a directory named .zst is unreadable_file on both paths; a missing file fails the thread read with its fs error', async () => {
    const d = path.join(dir, 'adir.jsonl.zst');
    await mkdir(d);
    const items = await sameBothWays([shardOf(d)]);
    expect(items).toEqual([{ line: 1, ordinal: 0, bad: expect.objectContaining({ reason: 'unreadable_file' }) }]);
    const missing = path.join(dir, 'missing.jsonl.zst');
    const err = await (async () => {
      for await (const _ of threadLineBatches(missing, 100)) void _;
    })().then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err).toMatchObject({ code: 'ENOENT', message: expect.stringContaining(missing) });
  });

  test('a reader that stops early frees its thread for the next one', async () => {
    const f = path.join(dir, 'stop.jsonl.zst');
    await writeFile(f, compress(corpus(3000)));
    for (let k = 0; k < 6; k++) {
      const it = threadLineBatches(f, 1e6, { firstLine: 1 });
      const first = await it.next();
      expect(first.value!.firstLine).toBe(1);
      await it.return(undefined);
    }
    const lines: number[] = [];
    for await (const b of threadLineBatches(f, 1e6)) lines.push(b.count);
    expect(lines.reduce((a, b) => a + b, 0)).toBe(corpus(3000).toString().split('\n').length - 1);
  });
});

function shardOf(file: string): JsonlShardSpec {
  return { id: 's', file, lineStart: 1, lineEnd: Number.MAX_SAFE_INTEGER, records: 0 };
}
