import { sampleIndices } from '@nextlong/core';
import type { StreamingObjectStore } from '@nextlong/storage';
import { partRecords, type ReadRecord } from './records.js';

/** Which sequences to show: a seeded sample of `count`, or the records with these ids. */
export type SampleRequest = { count: number; seed: number } | { ids: string[] };

/** What was sampled, said in the report. */
export interface SampleInfo {
  total_sequences: number;
  requested: string;
  /** Sequences sampled, and of those shown (within the budget), how many with their text. */
  picked: number;
  shown: number;
  with_text: number;
  budget_bytes: number;
  missing_ids: string[];
  /** Sequences read to count negatives per meta-chunk (all done parts). */
  scanned: number;
}

export interface Picked {
  record: ReadRecord;
  shard: string;
  ordinal: number;
}

/**
 * Negatives per meta-chunk of one record: `head` puts a meta-chunk before its negatives, `tail`
 * after them; with `random` placement the groups cannot be told apart, so none are counted.
 */
export function negativesPerMeta(r: ReadRecord): number[] {
  if (r.placement === 'random') return [];
  const k: number[] = [];
  let run = 0;
  let seenMeta = false;
  for (const s of r.segments) {
    if (s.type !== 'meta') run++;
    else if (r.placement === 'tail') {
      k.push(run);
      run = 0;
    } else {
      if (seenMeta) k.push(run);
      seenMeta = true;
      run = 0;
    }
  }
  if (r.placement !== 'tail' && seenMeta) k.push(run);
  return k;
}

/**
 * One pass over the done parts: picks the requested records (kept in part order) and counts
 * negatives per meta-chunk over every record read.
 */
export async function pickSequences(
  store: StreamingObjectStore,
  parts: { shard: string; key: string; sequences: number }[],
  req: SampleRequest,
): Promise<{ picked: Picked[]; kHist: Record<number, number>; scanned: number; missing: string[] }> {
  const total = parts.reduce((a, p) => a + p.sequences, 0);
  const chosen = 'count' in req ? new Set(sampleIndices(total, req.count, req.seed)) : undefined;
  const wanted = 'ids' in req ? new Set(req.ids) : undefined;
  const picked: Picked[] = [];
  const kHist: Record<number, number> = {};
  let ordinal = 0;
  for (const p of parts) {
    for await (const r of partRecords(store, p.key)) {
      for (const k of negativesPerMeta(r)) kHist[k] = (kHist[k] ?? 0) + 1;
      if (chosen ? chosen.has(ordinal) : wanted!.has(r.id)) {
        picked.push({ record: r, shard: p.shard, ordinal });
        wanted?.delete(r.id);
      }
      ordinal++;
    }
  }
  return { picked, kHist, scanned: ordinal, missing: wanted ? [...wanted] : [] };
}
