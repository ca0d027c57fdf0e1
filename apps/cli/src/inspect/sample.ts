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
  /** Sequences read to count negatives per meta-chunk (all of the done parts, or see FULL_SCAN_SEQUENCES). */
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
 * Runs of up to this many sequences are read whole (every record counts towards negatives per
 * meta-chunk); a larger run reads only what the request needs: the beginning of each part up to
 * its last sampled sequence, or the parts until every requested id is found. A report of a
 * billion-token run then reads a few parts, not the whole output.
 */
export const FULL_SCAN_SEQUENCES = 2_000;

/**
 * One pass over the done parts (see FULL_SCAN_SEQUENCES): picks the requested records (kept in
 * part order) and counts negatives per meta-chunk over every record read (`scanned` of them).
 */
export async function pickSequences(
  store: StreamingObjectStore,
  parts: { shard: string; key: string; sequences: number }[],
  req: SampleRequest,
): Promise<{ picked: Picked[]; kHist: Record<number, number>; scanned: number; missing: string[] }> {
  const total = parts.reduce((a, p) => a + p.sequences, 0);
  const chosen = 'count' in req ? new Set(sampleIndices(total, req.count, req.seed)) : undefined;
  const wanted = 'ids' in req ? new Set(req.ids) : undefined;
  const whole = total <= FULL_SCAN_SEQUENCES;
  const picked: Picked[] = [];
  const kHist: Record<number, number> = {};
  let scanned = 0;
  let first = 0; // ordinal of the part's first sequence
  for (const p of parts) {
    if (!whole && wanted?.size === 0) break;
    // the part's last sampled ordinal: its records after that are not needed
    let last = Infinity;
    if (!whole && chosen) {
      last = -1;
      for (const o of chosen) if (o >= first && o < first + p.sequences && o > last) last = o;
    }
    let ordinal = first;
    if (last >= first) {
      for await (const r of partRecords(store, p.key)) {
        scanned++;
        for (const k of negativesPerMeta(r)) kHist[k] = (kHist[k] ?? 0) + 1;
        if (chosen ? chosen.has(ordinal) : wanted!.has(r.id)) {
          picked.push({ record: r, shard: p.shard, ordinal });
          wanted?.delete(r.id);
        }
        ordinal++;
        if (ordinal > last || (!whole && wanted?.size === 0)) break;
      }
    }
    first = whole ? ordinal : first + p.sequences;
  }
  return { picked, kHist, scanned, missing: wanted ? [...wanted] : [] };
}
