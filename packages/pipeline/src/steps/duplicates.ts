import { BadInputError, groupSegments, type ObjectStore } from '@nextlong/core';
import { readShard, type ShardSpec } from '@nextlong/storage';
import type { RunContext } from '../context.js';
import { dropLaterFromPool, type Contested } from './duplicates-pool.js';

/**
 * Duplicate document ids (documented in the README): the first occurrence in plan order
 * (shard order, then line) is the document; every later record with the same id is rejected
 * with reason `duplicate_id`, naming the first occurrence's file:line, and its chunks are kept
 * out of the pool — the same way on both vector backends.
 *
 * Where: each embed shard writes the ids it read (`ids/<shard>.jsonl`, almost free: the records
 * are parsed anyway) and embeds only the first occurrence of an id within the shard. The single
 * index step, after the embed barrier and before synth, resolves duplicates across shards,
 * removes later occurrences' chunks from the pool (dropLaterFromPool) and writes
 * `duplicates/<shard>.jsonl` for every shard that holds one (reject lines: synth reports them for
 * the input; finalize counts them for a separate pool) and `duplicates/summary.json`.
 */

export const dupKeys = {
  ids: (shardId: string) => `ids/${shardId}.jsonl`,
  shard: (shardId: string) => `duplicates/${shardId}.jsonl`,
  summary: 'duplicates/summary.json',
};

/** One valid record of a shard: line (row for Parquet), id, and its chunk count (empty chunks included). */
export type IdEntry = [line: number, id: string, chunks: number];

/** A reject line for a later occurrence (the shape of `rejects/` lines, plus `id` and `first`). */
export interface DuplicateRecord {
  shard: string;
  file: string;
  line: number;
  reason: 'duplicate_id';
  message: string;
  id: string;
  /** `<file>:<line>` of the first occurrence. */
  first: string;
}

/** Per shard id, the number of its records rejected as duplicates (shards with none are left out). */
export interface DuplicatesSummary {
  shards: Record<string, number>;
  count: number;
}

export async function writeIds(store: ObjectStore, shardId: string, ids: IdEntry[]): Promise<void> {
  await store.put(dupKeys.ids(shardId), ids.map((e) => JSON.stringify(e)).join('\n') + (ids.length ? '\n' : ''));
}

/** The index step's part: resolve, keep later occurrences out of the pool, write the duplicate lists. */
export async function resolveDuplicates(ctx: RunContext, signal?: AbortSignal): Promise<DuplicatesSummary> {
  const { plan, store } = ctx;
  const pool = await findDuplicates(plan.poolShards, (s) => idsOf(ctx, s, true), PREFETCH_FILES, signal);
  await dropLaterFromPool(ctx, plan.poolShards, pool.contested, signal);
  const found = [pool.later];
  // a separate input is read once here for its ids (no embedding): it has no ids files
  if (!plan.poolIsInput) found.push((await findDuplicates(plan.inputShards, (s) => idsOf(ctx, s, false), PREFETCH_READS, signal)).later);
  const summary: DuplicatesSummary = { shards: {}, count: 0 };
  for (const later of found) {
    for (const [shardId, recs] of later) {
      await store.put(dupKeys.shard(shardId), recs.map((r) => JSON.stringify(r)).join('\n') + '\n', signal);
      summary.shards[shardId] = recs.length;
      summary.count += recs.length;
    }
  }
  await store.put(dupKeys.summary, JSON.stringify(summary, null, 2) + '\n', signal);
  return summary;
}

/** The later occurrences in one shard, by line (empty when it has none or the index step predates them). */
export async function readShardDuplicates(store: ObjectStore, shardId: string): Promise<Map<number, DuplicateRecord>> {
  const out = new Map<number, DuplicateRecord>();
  if (!(await store.exists(dupKeys.shard(shardId)))) return out;
  for (const l of Buffer.from(await store.get(dupKeys.shard(shardId)))
    .toString('utf8')
    .split('\n')) {
    if (!l) continue;
    const r = JSON.parse(l) as DuplicateRecord;
    out.set(r.line, r);
  }
  return out;
}

export async function readDuplicatesSummary(store: ObjectStore): Promise<DuplicatesSummary | undefined> {
  if (!(await store.exists(dupKeys.summary))) return undefined;
  return JSON.parse(Buffer.from(await store.get(dupKeys.summary)).toString('utf8')) as DuplicatesSummary;
}

/** The reject of a later occurrence, as synth records it. */
export function duplicateError(d: DuplicateRecord): BadInputError {
  return new BadInputError('duplicate_id', d.message);
}

/** Shards whose ids are fetched ahead of the one being walked: ids files (small), or shards read whole. */
const PREFETCH_FILES = 16;
const PREFETCH_READS = 2;

interface Found {
  /** Later occurrences per shard id, in line order. */
  later: Map<string, DuplicateRecord[]>;
  contested: Contested[];
}

/**
 * Walks the shards in plan order. Memory: one map entry per distinct id (the id string and a
 * number packing shard index and line), i.e. roughly 100 bytes per document.
 */
async function findDuplicates(
  shards: ShardSpec[],
  idsOf: (s: ShardSpec) => Promise<IdEntry[]>,
  prefetch: number,
  signal?: AbortSignal,
): Promise<Found> {
  const first = new Map<string, number>();
  const found: Found = { later: new Map(), contested: [] };
  const LINE = 2 ** 32;
  // ids of the next few shards are fetched while one is walked (one or two requests each on S3)
  const ahead: Promise<IdEntry[]>[] = [];
  const fetchAhead = (upTo: number) => {
    for (let j = ahead.length; j < Math.min(upTo, shards.length); j++) {
      ahead.push(idsOf(shards[j]!));
      ahead[j]!.catch(() => {}); // awaited in order below
    }
  };
  for (let i = 0; i < shards.length; i++) {
    signal?.throwIfAborted();
    const shard = shards[i]!;
    fetchAhead(i + prefetch);
    const entries = await ahead[i]!;
    delete ahead[i]; // (a sparse array: the walked shards' ids are released)
    for (const [line, id, chunks] of entries) {
      const at = first.get(id);
      if (at === undefined) {
        first.set(id, i * LINE + line);
        continue;
      }
      const w = Math.floor(at / LINE);
      const firstShard = shards[w]!;
      const firstLine = at % LINE;
      const where = `${firstShard.file}:${firstLine}`;
      const rec: DuplicateRecord = {
        shard: shard.id,
        file: shard.file,
        line,
        reason: 'duplicate_id',
        message: `line ${line}: duplicate id ${JSON.stringify(id)}, first read at ${where} (the first occurrence is the document)`,
        id,
        first: where,
      };
      let list = found.later.get(shard.id);
      if (!list) found.later.set(shard.id, (list = []));
      list.push(rec);
      if (w !== i) found.contested.push({ id, firstShard: w, firstLine, laterShard: i, laterChunks: chunks });
    }
  }
  return found;
}

/** A shard's ids: from its embed step's ids file, else (a separate input, an older run) read from the shard. */
async function idsOf(ctx: RunContext, shard: ShardSpec, chunked: boolean): Promise<IdEntry[]> {
  const key = dupKeys.ids(shard.id);
  if (chunked && (await ctx.store.exists(key))) {
    const text = Buffer.from(await ctx.store.get(key)).toString('utf8');
    return text
      ? text
          .trimEnd()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as IdEntry)
      : [];
  }
  const c = ctx.plan.config;
  const out: IdEntry[] = [];
  for await (const item of readShard(shard, c)) {
    if ('doc' in item) out.push([item.line, item.doc.id, chunked ? groupSegments(item.doc.text, c.chunkChars).length : 0]);
  }
  return out;
}
