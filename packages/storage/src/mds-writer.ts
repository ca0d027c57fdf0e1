import type { ObjectStore } from '@nextlong/core';
import {
  encodeMdsSample,
  MDS_DEFAULT_SIZE_LIMIT,
  MDS_INDEX_BASENAME,
  MDS_MAX_SHARD_BYTES,
  mdsConfig,
  mdsSampleBytes,
  mdsShardBasename,
  pyJsonDumps,
  type MdsIndex,
  type MdsShardInfo,
} from './mds-format.js';

export interface MdsWriterOptions {
  /**
   * Shard size limit in bytes (Streaming's `size_limit`, default 1 << 26). A shard is closed
   * before a sample that would take it past the limit, counting the whole file (header,
   * offsets, embedded config); a single sample larger than the limit gets a shard of its own.
   */
  sizeLimit?: number;
}

export interface MdsSummary {
  shards: number;
  samples: number;
  /** Bytes of all shard files. */
  bytes: number;
}

/** Normalizes a key prefix: '' stays '', otherwise it ends with exactly one '/'. */
function dirPrefix(prefix: string): string {
  if (prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

const INITIAL_CAPACITY = 1 << 20;

/**
 * Writes one MosaicML Streaming MDS dataset (`<prefix>index.json` + `<prefix>shard.NNNNN.mds`)
 * to an ObjectStore: one sample per sequence, single column `input_ids` (`ndarray:int32`).
 * The bytes are what `streaming.MDSWriter(columns={'input_ids': 'ndarray:int32'},
 * compression=None, hashes=None, size_limit=…)` writes for the same samples, and are a pure
 * function of the inputs.
 *
 * Memory: one shard buffer (grown on demand up to the size limit, reused across shards).
 * Calls must be sequential: await each `write` before the next (a concurrent call throws).
 */
export class MdsWriter {
  readonly prefix: string;
  readonly sizeLimit: number;
  private readonly configData: Uint8Array;
  private buf = new Uint8Array(0);
  /** Encoded samples of the open shard, back to back from buf[0]. */
  private bodyLen = 0;
  /** End of each open-shard sample within the body. */
  private ends: number[] = [];
  private readonly shards: MdsShardInfo[] = [];
  private samples = 0;
  private bytes = 0;
  private busy = false;
  private finished = false;

  constructor(
    private readonly store: ObjectStore,
    prefix: string,
    opts: MdsWriterOptions = {},
  ) {
    const limit = opts.sizeLimit ?? MDS_DEFAULT_SIZE_LIMIT;
    if (!Number.isSafeInteger(limit) || limit <= 0 || limit > MDS_MAX_SHARD_BYTES) {
      throw new RangeError(`MDS sizeLimit must be an integer in [1, ${MDS_MAX_SHARD_BYTES}], got ${limit}`);
    }
    this.prefix = dirPrefix(prefix);
    this.sizeLimit = limit;
    this.configData = new TextEncoder().encode(pyJsonDumps(mdsConfig(limit)));
  }

  /** Samples written so far (flushed or buffered). */
  get count(): number {
    return this.samples + this.ends.length;
  }

  /** Bytes the open shard's file would have now (Streaming's `new_shard_size`). */
  private openShardBytes(): number {
    return 4 + 4 * (this.ends.length + 1) + this.configData.length + this.bodyLen;
  }

  /** Appends one sequence as a sample; may first flush the open shard to the store. */
  async write(ids: Uint32Array | Int32Array, signal?: AbortSignal): Promise<void> {
    this.enter();
    try {
      if (ids.length === 0) throw new Error('MDS ndarray column cannot hold an empty sequence');
      const need = mdsSampleBytes(ids.length);
      // Streaming: flush when size_limit < new_shard_size + len(sample) + 4 (its offset).
      // Unlike Streaming, never flush an empty shard (a lone oversized sample gets its own).
      if (this.ends.length > 0 && this.sizeLimit < this.openShardBytes() + need + 4) await this.flush(signal);
      const shardBytes = this.openShardBytes() + need + 4;
      if (shardBytes > MDS_MAX_SHARD_BYTES) throw new RangeError(`MDS sample of ${ids.length} tokens exceeds the 4 GiB shard limit`);
      this.reserve(this.bodyLen + need);
      encodeMdsSample(ids, this.buf, this.bodyLen);
      this.bodyLen += need;
      this.ends.push(this.bodyLen);
    } finally {
      this.busy = false;
    }
  }

  /** Flushes the last shard and writes `<prefix>index.json` (also when no sample was written). */
  async finish(signal?: AbortSignal): Promise<MdsSummary> {
    this.enter();
    try {
      if (this.ends.length > 0) await this.flush(signal);
      this.buf = new Uint8Array(0);
      const index: MdsIndex = { shards: this.shards, version: 2 };
      await this.store.put(`${this.prefix}${MDS_INDEX_BASENAME}`, pyJsonDumps(index), signal);
      this.finished = true;
      return { shards: this.shards.length, samples: this.samples, bytes: this.bytes };
    } finally {
      this.busy = false;
    }
  }

  private enter(): void {
    if (this.finished) throw new Error('MdsWriter: already finished');
    if (this.busy) throw new Error('MdsWriter: concurrent call (await each write before the next)');
    this.busy = true;
  }

  /** Grows the buffer to hold at least `n` bytes (doubling, capped near the size limit). */
  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, INITIAL_CAPACITY);
    cap = Math.min(cap, this.sizeLimit);
    if (cap < n) cap = n;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.bodyLen));
    this.buf = next;
  }

  /** Builds the shard file in place (body shifted right behind the header) and stores it. */
  private async flush(signal?: AbortSignal): Promise<void> {
    const n = this.ends.length;
    const headerLen = 4 + 4 * (n + 1) + this.configData.length;
    const total = headerLen + this.bodyLen;
    this.reserve(total);
    const buf = this.buf;
    buf.copyWithin(headerLen, 0, this.bodyLen);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    dv.setUint32(0, n, true);
    dv.setUint32(4, headerLen, true);
    for (let i = 0; i < n; i++) dv.setUint32(8 + 4 * i, headerLen + this.ends[i], true);
    buf.set(this.configData, 4 + 4 * (n + 1));

    const basename = mdsShardBasename(this.shards.length);
    await this.store.put(`${this.prefix}${basename}`, buf.subarray(0, total), signal);
    const config = mdsConfig(this.sizeLimit);
    this.shards.push({
      ...config,
      raw_data: { basename, bytes: total, hashes: {} },
      samples: n,
      zip_data: null,
    });
    this.samples += n;
    this.bytes += total;
    this.bodyLen = 0;
    this.ends = [];
  }
}

/**
 * Writes `<prefix>index.json` listing, in the given order, the shards of the sub-datasets
 * `<prefix><sub>/index.json` (each written by an MdsWriter with prefix `<prefix><sub>/`).
 * Shard basenames become `<sub>/shard.NNNNN.mds`, exactly as Streaming's own
 * `merge_index` does; MDSReader opens `os.path.join(local, split, basename)`. Shard files
 * are neither moved nor copied. Pass `subdirs` in a deterministic order (for example by
 * synth shard id) for byte-identical output.
 */
export async function mergeMdsIndexes(
  store: ObjectStore,
  prefix: string,
  subdirs: string[],
  signal?: AbortSignal,
): Promise<MdsSummary> {
  const root = dirPrefix(prefix);
  const seen = new Set<string>();
  const shards: MdsShardInfo[] = [];
  let samples = 0;
  let bytes = 0;
  const decoder = new TextDecoder();
  for (const raw of subdirs) {
    const sub = raw.replace(/^\/+|\/+$/g, '');
    if (sub === '' || sub.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new Error(`mergeMdsIndexes: bad subdirectory name ${JSON.stringify(raw)}`);
    }
    if (seen.has(sub)) throw new Error(`mergeMdsIndexes: subdirectory ${sub} listed twice`);
    seen.add(sub);
    const key = `${root}${sub}/${MDS_INDEX_BASENAME}`;
    const index = JSON.parse(decoder.decode(await store.get(key, signal))) as MdsIndex;
    if (index.version !== 2 || !Array.isArray(index.shards)) throw new Error(`${key}: not a version 2 MDS index`);
    for (const shard of index.shards) {
      if (shard.format !== 'mds') throw new Error(`${key}: shard format ${shard.format} is not mds`);
      const out: MdsShardInfo = {
        ...shard,
        raw_data: { ...shard.raw_data, basename: `${sub}/${shard.raw_data.basename}` },
        zip_data: shard.zip_data ? { ...shard.zip_data, basename: `${sub}/${shard.zip_data.basename}` } : null,
      };
      shards.push(out);
      samples += shard.samples;
      bytes += shard.zip_data ? shard.zip_data.bytes : shard.raw_data.bytes;
    }
  }
  const merged: MdsIndex = { shards, version: 2 };
  await store.put(`${root}${MDS_INDEX_BASENAME}`, pyJsonDumps(merged), signal);
  return { shards: shards.length, samples, bytes };
}
