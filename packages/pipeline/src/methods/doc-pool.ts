import { DocMatrix, keywordGroups, meanVector, PermanentError, rakeWords, type DocPart, type ObjectStore } from '@nextlong/core';
import { decodeSegment, SEGMENTS_PREFIX, SEGMENT_SUFFIX } from '@nextlong/vectors';

/**
 * The pool as whole documents, for the comparison methods (`standard`, `knn`, `quest`): every
 * document's indexed chunks and its vector (the normalised mean of its chunk vectors), read from
 * the segments the embed stage wrote (after the index step dropped duplicate ids). Ordinals
 * follow the segments in key order, then the points in each: the same on every machine.
 * Held in memory by each synth process: the pool must fit (README "Comparison methods").
 */
export class DocPool {
  private groups?: Map<string, number[]>;
  private keywordsByDoc?: string[][];
  private readonly ordOf = new Map<string, number>();

  private constructor(
    readonly ids: string[],
    private readonly chunkNums: Uint32Array[],
    private readonly chunkBytes: Uint8Array[][],
    readonly vectors: DocMatrix,
    private readonly keywordsPerDoc: number,
  ) {
    ids.forEach((id, i) => this.ordOf.set(id, i));
  }

  static async load(store: ObjectStore, keywordsPerDoc: number, signal?: AbortSignal): Promise<DocPool> {
    const keys: string[] = [];
    for await (const k of store.list(SEGMENTS_PREFIX, signal)) if (k.endsWith(SEGMENT_SUFFIX)) keys.push(k);
    if (keys.length === 0)
      throw new PermanentError(`${store.root}: no index segments under ${SEGMENTS_PREFIX} (this method needs vectors: segments)`);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const ids: string[] = [];
    const nums: number[][] = [];
    const bytes: Uint8Array[][] = [];
    const vecs: Float32Array[][] = [];
    const at = new Map<string, number>();
    let dim = 0;
    for (const key of keys) {
      const seg = decodeSegment(await store.get(key, signal), `${store.root}/${key}`);
      dim = seg.dim;
      for (let i = 0; i < seg.count; i++) {
        const id = seg.docIds[i]!;
        let ord = at.get(id);
        if (ord === undefined) {
          at.set(id, (ord = ids.length));
          ids.push(id);
          nums.push([]);
          bytes.push([]);
          vecs.push([]);
        }
        nums[ord]!.push(seg.chunks[i]!);
        bytes[ord]!.push(seg.texts[i]!);
        vecs[ord]!.push(seg.vectors.subarray(i * dim, (i + 1) * dim));
      }
    }
    // chunks in chunk order (a segment holds them so already; sorting costs nothing then)
    const order = nums.map((n) => n.map((_, i) => i).sort((a, b) => n[a]! - n[b]!));
    const rows = vecs.map((v) => meanVector(v, dim));
    return new DocPool(
      ids,
      nums.map((n, d) => Uint32Array.from(order[d]!, (i) => n[i]!)),
      bytes.map((b, d) => order[d]!.map((i) => b[i]!)),
      DocMatrix.of(rows, dim),
      keywordsPerDoc,
    );
  }

  get size(): number {
    return this.ids.length;
  }

  ordinal(id: string): number | undefined {
    return this.ordOf.get(id);
  }

  /** The document `ord` as a sequence part (its chunks' texts decoded now). */
  part(ord: number, extra: { score?: number; keyword?: string } = {}): DocPart {
    const dec = new TextDecoder();
    const nums = this.chunkNums[ord]!;
    const chunks = this.chunkBytes[ord]!.map((b, i) => ({ chunk: nums[i]!, text: dec.decode(b) }));
    return { docId: this.ids[ord]!, chunks, ...extra };
  }

  /** Quest: each document's RAKE keywords and the keyword groups, computed on first use. */
  keywordIndex(): { keywordsByDoc: string[][]; groups: Map<string, number[]> } {
    if (!this.groups) {
      this.keywordsByDoc = this.ids.map((_, ord) => documentKeywords(this.part(ord), this.keywordsPerDoc));
      this.groups = keywordGroups(this.keywordsByDoc);
    }
    return { keywordsByDoc: this.keywordsByDoc!, groups: this.groups };
  }
}

/** A document's keywords: RAKE words of its indexed text (the same for an anchor and a pool document). */
export function documentKeywords(d: DocPart, max: number): string[] {
  return rakeWords(d.chunks.map((c) => c.text).join('\n'), { max }).map((k) => k.phrase);
}

const pools = new WeakMap<object, Promise<DocPool>>();

/** One pool per run context (per process): loaded on first use, shared by its synth shards. */
export function docPoolFor(owner: object, store: ObjectStore, keywordsPerDoc: number, signal?: AbortSignal): Promise<DocPool> {
  let p = pools.get(owner);
  if (!p) {
    p = DocPool.load(store, keywordsPerDoc, signal);
    pools.set(owner, p);
    p.catch(() => pools.delete(owner)); // a failed load is retried by the next shard
  }
  return p;
}
