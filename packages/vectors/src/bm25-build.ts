import { createHash } from 'node:crypto';
import { bm25Weight, BM25_B, BM25_K1, termCounts, type ObjectStore } from '@nextlong/core';
import { INDEX_DIR } from './index-layout.js';
import { openSegmentsIndex } from './segments-index.js';

/**
 * The `bm25` retriever's inverted index (core/bm25.ts), built by the index step after the
 * segments index, from its chunk texts in key order — so a posting's key is the segments
 * searcher's key, and texts, sampling and chunk identity come from that searcher.
 *
 * `index/bm25.bin`: term ids u32 ×T (ascending) | posting offsets u32 ×(T+1) | keys u32 ×P
 * (ascending within a term) | weights f32 ×P (the document side of the BM25 sum: saturated,
 * length-normalized tf). `index/bm25.json` describes it (counts, avgdl, k1, b, sha256).
 */
export const BM25_DESCRIPTOR_KEY = `${INDEX_DIR}bm25.json`;
export const BM25_FILE_KEY = `${INDEX_DIR}bm25.bin`;

export interface Bm25Descriptor {
  version: 1;
  chunks: number;
  terms: number;
  postings: number;
  avgLength: number;
  k1: number;
  b: number;
  bytes: number;
  sha256: string;
}

/** A growable typed array (a pool's postings do not fit plain arrays comfortably). */
class Grow<T extends Uint32Array | Uint16Array> {
  length = 0;
  constructor(public data: T) {}
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
}

/** Builds the BM25 index of the sealed segments index in `store`; returns its descriptor. */
export async function buildBm25Index(store: ObjectStore, signal?: AbortSignal): Promise<Bm25Descriptor> {
  const searcher = await openSegmentsIndex(store, { exact: true, signal });
  const n = searcher.size;
  const ids = new Grow(new Uint32Array(1 << 16));
  const tfs = new Grow(new Uint16Array(1 << 16));
  const starts = new Uint32Array(n + 1);
  const lengths = new Uint32Array(n);
  const df = new Map<number, number>();
  try {
    for (let from = 0; from < n; from += 512) {
      signal?.throwIfAborted();
      const keys = Array.from({ length: Math.min(512, n - from) }, (_, i) => from + i);
      const texts = await searcher.texts(keys, signal);
      texts.forEach((text, i) => {
        const { counts, length } = termCounts(text);
        lengths[from + i] = length;
        for (const [id, tf] of counts) {
          ids.push(id);
          tfs.push(Math.min(tf, 0xffff));
          df.set(id, (df.get(id) ?? 0) + 1);
        }
        starts[from + i + 1] = ids.length;
      });
    }
  } finally {
    await searcher.close();
  }
  let total = 0;
  for (const l of lengths) total += l;
  const avgLength = n > 0 ? total / n : 0;
  const terms = Uint32Array.from(df.keys()).sort();
  const offsets = new Uint32Array(terms.length + 1);
  const slot = new Map<number, number>();
  terms.forEach((t, i) => {
    offsets[i + 1] = offsets[i]! + df.get(t)!;
    slot.set(t, offsets[i]!);
  });
  const P = ids.length;
  const postKeys = new Uint32Array(P);
  const weights = new Float32Array(P);
  // keys ascending: each term's postings come out sorted by key
  for (let key = 0; key < n; key++) {
    for (let j = starts[key]!; j < starts[key + 1]!; j++) {
      const t = ids.data[j]!;
      const at = slot.get(t)!;
      slot.set(t, at + 1);
      postKeys[at] = key;
      weights[at] = bm25Weight(tfs.data[j]!, lengths[key]!, avgLength);
    }
  }
  const parts = [terms, offsets, postKeys, weights].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const body = Buffer.concat(parts);
  const desc: Bm25Descriptor = {
    version: 1,
    chunks: n,
    terms: terms.length,
    postings: P,
    avgLength,
    k1: BM25_K1,
    b: BM25_B,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  await store.put(BM25_FILE_KEY, body, signal);
  await store.put(BM25_DESCRIPTOR_KEY, JSON.stringify(desc, null, 1), signal); // last: the index is whole
  return desc;
}
