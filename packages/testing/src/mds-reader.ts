import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ShardEntry {
  column_encodings: string[];
  column_names: string[];
  column_sizes: (number | null)[];
  raw_data: { basename: string };
  samples: number;
}

/**
 * A minimal MosaicML Streaming MDS reader (from the format's source, independent of our
 * writer): every `input_ids` sample of `<dir>/index.json`, in order.
 */
export async function readMdsInputIds(dir: string): Promise<Int32Array[]> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { version: number; shards: ShardEntry[] };
  if (index.version !== 2) throw new Error(`MDS index version ${index.version}`);
  const out: Int32Array[] = [];
  for (const sh of index.shards) {
    if (sh.column_names.join() !== 'input_ids' || sh.column_encodings.join() !== 'ndarray:int32') throw new Error('unexpected columns');
    const buf = await readFile(path.join(dir, sh.raw_data.basename));
    const n = buf.readUInt32LE(0);
    if (n !== sh.samples) throw new Error(`${sh.raw_data.basename}: ${n} samples, index says ${sh.samples}`);
    for (let i = 0; i < n; i++) {
      const begin = buf.readUInt32LE(4 + 4 * i);
      const end = buf.readUInt32LE(8 + 4 * i);
      let p = begin;
      // variable-size column: uint32 size first
      const size = buf.readUInt32LE(p);
      p += 4;
      if (p + size !== end) throw new Error('sample size mismatch');
      // ndarray header: byte (ndim << 2 | shape dtype code), then the shape
      const head = buf[p++]!;
      const ndim = head >> 2;
      const code = head & 3;
      const width = [1, 2, 4, 8][code]!;
      let len = 1;
      for (let d = 0; d < ndim; d++) {
        len *= width === 8 ? Number(buf.readBigUInt64LE(p)) : buf.readUIntLE(p, width);
        p += width;
      }
      out.push(new Int32Array(buf.buffer.slice(buf.byteOffset + p, buf.byteOffset + p + 4 * len)));
      if (p + 4 * len !== end) throw new Error('ndarray length mismatch');
    }
  }
  return out;
}
