import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const EMPTY = 0xffffffff;

/**
 * The index's doc ids (docs.jsonl: line = doc ordinal), compact: every id's UTF-8 bytes in one
 * buffer with offsets, and an open-addressing hash table for id → ordinal — no string or map
 * entry per document, so a pool of millions of documents costs a few bytes per id beyond its text.
 */
export class DocIdTable {
  private constructor(
    private readonly bytes: Buffer,
    private readonly offsets: Uint32Array, // id i is bytes[offsets[i], offsets[i + 1])
    private readonly slots: Uint32Array, // ordinal, or EMPTY; size a power of two ≥ 2 × count
  ) {}

  get count(): number {
    return this.offsets.length - 1;
  }

  /** Reads docs.jsonl (`where` names it in errors). */
  static async read(file: string, where: string): Promise<DocIdTable> {
    const size = (await stat(file)).size;
    if (size > EMPTY) throw new Error(`${where}: ${size} bytes, more doc ids than the searcher can hold (4 GiB)`);
    // Decoded ids are never longer than their JSON lines: one buffer of the file's size holds them.
    const bytes = Buffer.allocUnsafe(size);
    const ends: number[] = [];
    let pos = 0;
    let line = 0;
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      if (text === '') continue;
      let id: unknown;
      try {
        id = JSON.parse(text);
      } catch {
        id = undefined;
      }
      if (typeof id !== 'string') throw new Error(`${where}:${line}: not a JSON string`);
      pos += bytes.write(id, pos, 'utf8');
      ends.push(pos);
    }
    const offsets = new Uint32Array(ends.length + 1);
    offsets.set(ends, 1);
    const table = new DocIdTable(bytes.subarray(0, pos), offsets, new Uint32Array(slotCount(ends.length)).fill(EMPTY));
    for (let ord = 0; ord < ends.length; ord++) table.insert(ord);
    return table;
  }

  /** The id of ordinal `ord`. */
  id(ord: number): string {
    return this.bytes.toString('utf8', this.offsets[ord], this.offsets[ord + 1]);
  }

  /** The ordinal of `id`, or -1 when the index has no chunk of it. */
  ordinal(id: string): number {
    const key = Buffer.from(id, 'utf8');
    const mask = this.slots.length - 1;
    for (let s = hashBytes(key, 0, key.length) & mask; ; s = (s + 1) & mask) {
      const ord = this.slots[s];
      if (ord === EMPTY) return -1;
      if (this.bytes.compare(key, 0, key.length, this.offsets[ord], this.offsets[ord + 1]) === 0) return ord;
    }
  }

  private insert(ord: number): void {
    const mask = this.slots.length - 1;
    let s = hashBytes(this.bytes, this.offsets[ord], this.offsets[ord + 1]) & mask;
    while (this.slots[s] !== EMPTY) s = (s + 1) & mask;
    this.slots[s] = ord;
  }
}

function slotCount(n: number): number {
  let size = 8;
  while (size < 2 * n) size *= 2;
  return size;
}

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
