/**
 * How a pool's keys 0..n-1 are split into HNSW partitions. The split depends only on n and the
 * configured partition size — never on threads or workers — so the graphs, and the sequences
 * searched from them, are the same however many partitions are built at once.
 */

/** A contiguous key range [first, first + count). */
export interface KeyRange {
  first: number;
  count: number;
}

/**
 * Balanced contiguous ranges of at most `partitionChunks` keys each; a pool no larger than
 * that is one partition (the single graph of version 1 indexes, byte for byte).
 */
export function partitionRanges(n: number, partitionChunks: number): KeyRange[] {
  if (!Number.isSafeInteger(partitionChunks) || partitionChunks < 1) throw new Error(`partition size must be a positive integer, got ${partitionChunks}`);
  const parts = Math.max(1, Math.ceil(n / partitionChunks));
  const bound = (p: number) => Math.floor((p * n) / parts);
  return Array.from({ length: parts }, (_, p) => ({ first: bound(p), count: bound(p + 1) - bound(p) }));
}

/** One insert of a partition's build: the keys of `range` that came from segment `segment`. */
export interface InsertSlice extends KeyRange {
  segment: number;
}

/**
 * The inserts of each partition, in key order: every segment's rows cut at partition bounds.
 * One insert per (segment, partition) pair — a segment is never split otherwise, since usearch
 * resets its level generator whenever an add grows the capacity (hnsw-build-worker.ts).
 */
export function partitionSlices(segments: readonly KeyRange[], ranges: readonly KeyRange[]): InsertSlice[][] {
  return ranges.map((r) => {
    const end = r.first + r.count;
    const out: InsertSlice[] = [];
    segments.forEach((s, segment) => {
      const first = Math.max(s.first, r.first);
      const last = Math.min(s.first + s.count, end);
      if (last > first) out.push({ segment, first, count: last - first });
    });
    return out;
  });
}
