import fc from 'fast-check';
import { readLineBatches, readLines, type RawLine } from './line-reader.js';
import { maxLineBytes, parseRecord } from './records.js';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(it: AsyncIterable<RawLine>): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('readLines with a byte limit', () => {
  test('a 50 MB line is skipped to its newline and comes as one marker; no kept line exceeds the limit', async () => {
    const limit = 1 << 20;
    // generated chunk by chunk: the input itself is never one big buffer
    async function* input(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"id":"a","text":"ok"}\n{"id":"big","text":"');
      const block = Buffer.alloc(1 << 16, 0x78);
      for (let i = 0; i < 800; i++) yield block;
      yield Buffer.from('"}\n{"id":"b","text":"after"}\n');
    }
    let longest = 0;
    const lines: RawLine[] = [];
    for await (const l of readLines(input(), 1, limit)) {
      longest = Math.max(longest, l.bytes.length);
      lines.push(l);
    }
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3]);
    expect(longest).toBeLessThanOrEqual(limit);
    expect(lines[1]!.overLimit).toBe(800 * (1 << 16) + '{"id":"big","text":"'.length + 2);
    expect(lines[1]!.bytes.length).toBe(0);
    expect(lines[2]!.bytes.toString()).toBe('{"id":"b","text":"after"}');
  });

  test('the marker becomes a too_large reject naming the line', async () => {
    const big = Buffer.concat([Buffer.from('{"text":"'), Buffer.alloc(100_000, 0x61), Buffer.from('"}\n')]);
    const [raw] = await collect(readLines(chunked(big, 4096), 7, maxLineBytes(100)));
    expect(raw!.overLimit).toBe(big.length - 1);
    expect(() => parseRecord(raw!, { textField: 'text', idField: 'id', maxRecordChars: 100, shardId: 's' })).toThrow(
      expect.objectContaining({
        name: 'BadInputError',
        reason: 'too_large',
        message: expect.stringMatching(/^line 7: .*skipped while reading/),
      }),
    );
  });

  test('a line exactly at the limit is kept; an over-long blank line is an empty line, not a record', async () => {
    const buf = Buffer.from(`${'y'.repeat(10)}\n${'z'.repeat(11)}\n${' '.repeat(50)}\t\r\nlast`);
    const lines = await collect(readLines(chunked(buf, 3), 1, 10));
    expect(lines.map((l) => [l.line, l.bytes.toString(), l.overLimit])).toEqual([
      [1, 'y'.repeat(10), undefined],
      [2, '', 11],
      [3, '', undefined],
      [4, 'last', undefined],
    ]);
  });

  test('property: any chunking and limit give the lines of a plain split, over-long ones as markers', async () => {
    const alphabet = fc.constantFrom(...'ab \n\r');
    await fc.assert(
      fc.asyncProperty(
        fc.array(alphabet, { maxLength: 200 }),
        fc.integer({ min: 1, max: 17 }),
        fc.integer({ min: 0, max: 30 }),
        async (chars, size, limit) => {
          const text = chars.join('');
          const parts = text.split('\n');
          if (parts[parts.length - 1] === '') parts.pop();
          const want = parts.map((p, i) => {
            const blank = !/[^ \t\r]/.test(p);
            if (p.length > limit) return blank ? [i + 1, '', undefined] : [i + 1, '', p.length];
            return [i + 1, p.endsWith('\r') ? p.slice(0, -1) : p, undefined];
          });
          const got = await collect(readLines(chunked(Buffer.from(text), size), 1, limit));
          expect(got.map((l) => [l.line, l.bytes.toString(), l.overLimit])).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('readLineBatches', () => {
  test('a chunk of many lines comes in batches of at most 1024, numbered in order', async () => {
    const sizes: number[] = [];
    const numbers: number[] = [];
    for await (const batch of readLineBatches(chunked(Buffer.from('\n'.repeat(3000) + 'x'), 1 << 20), 5)) {
      sizes.push(batch.length);
      numbers.push(...batch.map((l) => l.line));
    }
    expect(sizes).toEqual([1024, 1024, 952, 1]);
    expect(numbers).toEqual(Array.from({ length: 3001 }, (_, i) => i + 5));
  });

  test('a batch holds the lines that end in its chunk and pulls no further chunk', async () => {
    let pulled = 0;
    async function* input(): AsyncGenerator<Buffer> {
      for (const s of ['a\nb', 'c\nd\n', 'e\n']) {
        pulled++;
        yield Buffer.from(s);
      }
    }
    const it = readLineBatches(input());
    const first = await it.next();
    expect(first.value!.map((l: RawLine) => l.bytes.toString())).toEqual(['a']);
    expect(pulled).toBe(1);
    const second = await it.next();
    expect(second.value!.map((l: RawLine) => [l.line, l.bytes.toString()])).toEqual([
      [2, 'bc'],
      [3, 'd'],
    ]);
    expect(pulled).toBe(2);
    await it.return(undefined);
  });
});
