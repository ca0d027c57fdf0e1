import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsObjectStore } from './fs-store.js';
import { pyJsonDumps } from './mds-format.js';
import { MdsWriter, mergeMdsIndexes } from './mds-writer.js';

/*
 * A small independent MDS reader, written from Streaming's MDSReader / NDArray.decode
 * (streaming/base/format/mds/reader.py, mds/encodings.py): it shares no code with the writer.
 */
interface ReadShard {
  basename: string;
  samples: number;
  ids: Int32Array[];
  config: Record<string, unknown>;
}

function decodeNdarray(encoding: string, data: Uint8Array): Int32Array {
  const args = encoding.split(':').slice(1);
  expect(args).toEqual(['int32']); // dtype fixed, shape dynamic
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const byte = dv.getUint8(0);
  const ndim = byte >> 2;
  const shapeCode = byte % 4;
  const w = 2 ** shapeCode;
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) {
    const at = 1 + d * w;
    shape.push(
      shapeCode === 0 ? dv.getUint8(at) : shapeCode === 1 ? dv.getUint16(at, true) : shapeCode === 2 ? dv.getUint32(at, true) : Number(dv.getBigUint64(at, true)),
    );
  }
  expect(ndim).toBe(1);
  const start = 1 + ndim * w;
  const n = (data.length - start) / 4;
  expect(n).toBe(shape[0]);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getInt32(start + 4 * i, true);
  return out;
}

async function readMds(dir: string): Promise<ReadShard[]> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
  expect(index.version).toBe(2);
  const out: ReadShard[] = [];
  for (const info of index.shards) {
    expect(info.format).toBe('mds');
    expect(info.version).toBe(2);
    expect(info.compression).toBeNull();
    expect(info.zip_data).toBeNull();
    const file = new Uint8Array(await readFile(path.join(dir, info.raw_data.basename)));
    expect(file.length).toBe(info.raw_data.bytes);
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const num = dv.getUint32(0, true);
    expect(num).toBe(info.samples);
    const offsets = Array.from({ length: num + 1 }, (_, i) => dv.getUint32(4 + 4 * i, true));
    const config = JSON.parse(new TextDecoder().decode(file.subarray(4 + 4 * (num + 1), offsets[0])));
    expect(offsets[num]).toBe(file.length);
    const ids: Int32Array[] = [];
    for (let s = 0; s < num; s++) {
      const data = file.subarray(offsets[s], offsets[s + 1]);
      const sdv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      // sizes of variable-size columns (column_sizes null) come first
      const sizes: number[] = [];
      let idx = 0;
      for (const size of info.column_sizes as (number | null)[]) {
        if (size) sizes.push(size);
        else {
          sizes.push(sdv.getUint32(idx, true));
          idx += 4;
        }
      }
      const sample: Record<string, Int32Array> = {};
      info.column_names.forEach((name: string, c: number) => {
        sample[name] = decodeNdarray(info.column_encodings[c], data.subarray(idx, idx + sizes[c]));
        idx += sizes[c];
      });
      expect(idx).toBe(data.length);
      ids.push(sample.input_ids);
    }
    out.push({ basename: info.raw_data.basename, samples: info.samples, ids, config });
  }
  return out;
}

const allIds = (shards: ReadShard[]) => shards.flatMap((s) => s.ids.map((a) => Array.from(a)));

function seq(n: number, seed: number): Uint32Array {
  const a = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = (x >>> 0) % 128256;
  }
  return a;
}

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = path.join(e.parentPath, e.name);
      out.set(path.relative(dir, p), await readFile(p));
    }
  }
  return out;
}

const CONFIG_64M =
  '{"column_encodings": ["ndarray:int32"], "column_names": ["input_ids"], "column_sizes": [null], ' +
  '"compression": null, "format": "mds", "hashes": [], "size_limit": 67108864, "version": 2}';

describe('MdsWriter (MosaicML Streaming MDS, DESIGN §4)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mds-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test('exact bytes of a one-sample dataset (as streaming.MDSWriter writes them)', async () => {
    const store = new FsObjectStore(tmp);
    const w = new MdsWriter(store, 'mds');
    await w.write(Uint32Array.from([1, 2, 3]));
    expect(await w.finish()).toEqual({ shards: 1, samples: 1, bytes: 214 });

    const shard = await readFile(path.join(tmp, 'mds/shard.00000.mds'));
    const cfg = Buffer.from(CONFIG_64M);
    expect(cfg.length).toBe(184);
    const u32 = (...v: number[]) => Buffer.from(Uint32Array.from(v).buffer);
    const i32 = (...v: number[]) => Buffer.from(Int32Array.from(v).buffer);
    const expected = Buffer.concat([
      u32(1), // num_samples
      u32(4 + 8 + 184, 4 + 8 + 184 + 18), // offsets
      cfg, // json.dumps(get_config(), sort_keys=True)
      u32(14), // byte size of the variable-size column
      Buffer.from([(1 << 2) | 0, 3]), // ndim 1, shape dtype uint8; shape (3,)
      i32(1, 2, 3),
    ]);
    expect(shard.equals(expected)).toBe(true);

    const index = await readFile(path.join(tmp, 'mds/index.json'), 'utf8');
    expect(index).toBe(
      '{"shards": [{"column_encodings": ["ndarray:int32"], "column_names": ["input_ids"], "column_sizes": [null], ' +
        '"compression": null, "format": "mds", "hashes": [], "raw_data": {"basename": "shard.00000.mds", "bytes": 214, ' +
        '"hashes": {}}, "samples": 1, "size_limit": 67108864, "version": 2, "zip_data": null}], "version": 2}',
    );
  });

  test('round trip: decoded ids equal the written ones (uint8/uint16/uint32 shape headers)', async () => {
    const store = new FsObjectStore(tmp);
    const w = new MdsWriter(store, 'out/mds/');
    const inputs = [seq(1, 1), seq(255, 2), seq(256, 3), seq(65535, 4), seq(65536, 5), seq(131072, 6), Int32Array.from([0, 2147483647, 7])];
    for (const ids of inputs) await w.write(ids);
    expect(w.count).toBe(inputs.length);
    const sum = await w.finish();
    expect(sum).toMatchObject({ shards: 1, samples: inputs.length });
    const shards = await readMds(path.join(tmp, 'out/mds'));
    expect(shards.map((s) => s.basename)).toEqual(['shard.00000.mds']);
    expect(shards[0].config).toEqual(JSON.parse(CONFIG_64M));
    expect(allIds(shards)).toEqual(inputs.map((a) => Array.from(a)));
    const shard = await readFile(path.join(tmp, 'out/mds/shard.00000.mds'));
    // shape header bytes: code 0 (uint8) for 1 and 255, 1 (uint16) for 256/65535, 2 (uint32) from 65536
    const dv = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
    const heads = inputs.map((_, s) => shard[dv.getUint32(4 + 4 * s, true) + 4]);
    expect(heads).toEqual([4, 4, 5, 5, 6, 6, 4]);
  });

  test('shard rollover at the size limit counts the whole file; equal to the limit is allowed', async () => {
    // 100-token sample: 4 (size) + 1 + 1 (uint8 shape) + 400 = 406 bytes, plus a 4-byte offset.
    // size_limit 2000 → config is 180 bytes; header base 4 + 4 + 180 = 188; 188 + 4 × 410 = 1828.
    const store = new FsObjectStore(tmp);
    const limit = 188 + 4 * 410; // exactly four samples per shard
    const w = new MdsWriter(store, 'mds', { sizeLimit: limit });
    const inputs = Array.from({ length: 10 }, (_, i) => seq(100, 100 + i));
    for (const ids of inputs) await w.write(ids);
    const sum = await w.finish();
    expect(sum.shards).toBe(3);
    const shards = await readMds(path.join(tmp, 'mds'));
    expect(shards.map((s) => s.samples)).toEqual([4, 4, 2]);
    expect(shards.map((s) => s.basename)).toEqual(['shard.00000.mds', 'shard.00001.mds', 'shard.00002.mds']);
    const sizes = await Promise.all(shards.map(async (s) => (await readFile(path.join(tmp, 'mds', s.basename))).length));
    expect(sizes).toEqual([limit, limit, 188 + 2 * 410]);
    expect(allIds(shards)).toEqual(inputs.map((a) => Array.from(a)));
    expect(sum.bytes).toBe(sizes.reduce((a, b) => a + b, 0));

    // one byte less → three per shard
    const tmp2 = path.join(tmp, 'b');
    const w2 = new MdsWriter(new FsObjectStore(tmp2), 'mds', { sizeLimit: limit - 1 });
    for (const ids of inputs) await w2.write(ids);
    await w2.finish();
    expect((await readMds(path.join(tmp2, 'mds'))).map((s) => s.samples)).toEqual([3, 3, 3, 1]);
  });

  test('a sample larger than the limit gets a shard of its own (no empty shard)', async () => {
    const store = new FsObjectStore(tmp);
    const w = new MdsWriter(store, 'mds', { sizeLimit: 1000 });
    const inputs = [seq(10, 1), seq(1000, 2), seq(10, 3), seq(10, 4)];
    for (const ids of inputs) await w.write(ids);
    await w.finish();
    const shards = await readMds(path.join(tmp, 'mds'));
    expect(shards.map((s) => s.samples)).toEqual([1, 1, 2]);
    expect(allIds(shards)).toEqual(inputs.map((a) => Array.from(a)));
  });

  test('no samples: an index with no shards', async () => {
    const store = new FsObjectStore(tmp);
    expect(await new MdsWriter(store, 'mds').finish()).toEqual({ shards: 0, samples: 0, bytes: 0 });
    expect(await readFile(path.join(tmp, 'mds/index.json'), 'utf8')).toBe('{"shards": [], "version": 2}');
  });

  test('parallel per-shard writers merged into one index that lists every shard', async () => {
    const store = new FsObjectStore(tmp);
    const subs = ['00002', '00000', '00001'];
    const data = new Map(subs.map((sub, k) => [sub, Array.from({ length: 3 + 2 * k }, (_, i) => seq(60, 1000 * k + i))]));
    await Promise.all(
      subs.map(async (sub) => {
        // size_limit 937: config 179 bytes → header base 187; a 60-token sample costs 246 + 4
        const w = new MdsWriter(store, `run/mds/${sub}/`, { sizeLimit: 187 + 3 * 250 });
        for (const ids of data.get(sub)!) await w.write(ids);
        await w.finish();
      }),
    );
    const order = [...subs].sort();
    const sum = await mergeMdsIndexes(store, 'run/mds', order);
    const shards = await readMds(path.join(tmp, 'run/mds'));
    expect(sum).toMatchObject({ shards: shards.length, samples: 3 + 5 + 7 });
    expect(shards.map((s) => s.basename)).toEqual([
      '00000/shard.00000.mds', // 5 samples
      '00000/shard.00001.mds',
      '00001/shard.00000.mds', // 7 samples
      '00001/shard.00001.mds',
      '00001/shard.00002.mds',
      '00002/shard.00000.mds', // 3 samples
    ]);
    expect(shards.map((s) => s.samples)).toEqual([3, 2, 3, 3, 1, 3]);
    expect(allIds(shards)).toEqual(order.flatMap((sub) => data.get(sub)!.map((a) => Array.from(a))));
    // sub-indexes stay readable on their own
    expect(allIds(await readMds(path.join(tmp, 'run/mds/00001')))).toEqual(data.get('00001')!.map((a) => Array.from(a)));
    // merged index is Python json.dumps(sort_keys=True) text
    const text = await readFile(path.join(tmp, 'run/mds/index.json'), 'utf8');
    expect(text).toBe(pyJsonDumps(JSON.parse(text)));

    await expect(mergeMdsIndexes(store, 'run/mds', ['00000', 'missing'])).rejects.toThrow();
    await expect(mergeMdsIndexes(store, 'run/mds', ['../x'])).rejects.toThrow(/bad subdirectory/);
    await expect(mergeMdsIndexes(store, 'run/mds', ['00000', '00000/'])).rejects.toThrow(/twice/);
  });

  test('byte-identical output for identical input', async () => {
    const run = async (dir: string) => {
      const store = new FsObjectStore(dir);
      await Promise.all(
        ['a', 'b'].map(async (sub, k) => {
          const w = new MdsWriter(store, `mds/${sub}`, { sizeLimit: 5000 });
          for (let i = 0; i < 9; i++) await w.write(seq(300 + i, 10 * k + i));
          await w.finish();
        }),
      );
      await mergeMdsIndexes(store, 'mds/', ['a', 'b']);
      return filesOf(dir);
    };
    const one = await run(path.join(tmp, '1'));
    const two = await run(path.join(tmp, '2'));
    expect([...one.keys()].sort()).toEqual([...two.keys()].sort());
    expect(one.size).toBeGreaterThan(5);
    for (const [k, v] of one) expect(v.equals(two.get(k)!)).toBe(true);
  });

  test('rejects bad input and misuse', async () => {
    const store = new FsObjectStore(tmp);
    expect(() => new MdsWriter(store, 'mds', { sizeLimit: 0 })).toThrow(RangeError);
    expect(() => new MdsWriter(store, 'mds', { sizeLimit: 2 ** 32 })).toThrow(RangeError);
    const w = new MdsWriter(store, 'mds');
    await expect(w.write(new Uint32Array(0))).rejects.toThrow(/empty/);
    await expect(w.write(Uint32Array.from([1, 0x80000000]))).rejects.toThrow(/int32/);
    await expect(w.write(Int32Array.from([-1]))).rejects.toThrow(/int32/);
    // size_limit 210: config 179 bytes, header base 187; a 1-token sample costs 10 + 4, so the
    // second write flushes (awaits the store) and a call made meanwhile is refused.
    const w2 = new MdsWriter(store, 'mds2', { sizeLimit: 210 });
    await w2.write(Uint32Array.from([1]));
    const p = w2.write(Uint32Array.from([2]));
    await expect(w2.write(Uint32Array.from([3]))).rejects.toThrow(/concurrent/);
    await p;
    expect(await w2.finish()).toMatchObject({ shards: 2, samples: 2 });
    await expect(w2.write(Uint32Array.from([1]))).rejects.toThrow(/finished/);
    await expect(w2.finish()).rejects.toThrow(/finished/);
  });
});

describe('pyJsonDumps (Python json.dumps(sort_keys=True))', () => {
  test('separators, key order, null, nesting, ASCII escapes', () => {
    expect(pyJsonDumps({ b: [1, null, true], a: { d: {}, c: [] }, 'é': 'x\u00ff\n"\\\u007f' })).toBe(
      '{"a": {"c": [], "d": {}}, "b": [1, null, true], "\\u00e9": "x\\u00ff\\n\\"\\\\\\u007f"}',
    );
    expect(() => pyJsonDumps(1.5)).toThrow();
  });
});
