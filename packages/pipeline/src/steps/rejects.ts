import { PermanentError, type BadInputError, type ObjectStore } from '@nextlong/core';
import type { ShardSpec } from '@nextlong/storage';
import { keys } from '../run-state.js';
import type { ShardStats } from '../stats.js';

/** Bad records of one shard, written as `<out>/rejects/part-<shard>.jsonl`. */
export class RejectLog {
  private readonly lines: string[] = [];
  constructor(private readonly shard: ShardSpec) {}

  add(line: number, err: BadInputError, extra?: Record<string, unknown>): void {
    this.lines.push(
      JSON.stringify({ shard: this.shard.id, file: this.shard.file, line, reason: err.reason, message: err.message, ...extra }),
    );
  }

  async save(store: ObjectStore): Promise<void> {
    if (this.lines.length) await store.put(keys.rejects(this.shard.id), this.lines.join('\n') + '\n');
  }
}

/** Counts a bad record and logs it. */
export function recordReject(
  stats: ShardStats,
  log: RejectLog | undefined,
  line: number,
  err: BadInputError,
  extra?: Record<string, unknown>,
): void {
  stats.documents_rejected++;
  stats.rejects_by_reason[err.reason] = (stats.rejects_by_reason[err.reason] ?? 0) + 1;
  log?.add(line, err, extra);
}

/**
 * Counted, never a reason to fail a shard: a broken file is one reject for the whole file, and a
 * duplicate id is a redundant record, not bad data (a copy of a whole file must not fail the run).
 */
const FILE_LEVEL = new Set(['truncated_file', 'corrupt_file', 'unreadable_file', 'unsupported_file', 'not_gzip', 'duplicate_id']);

/** At the end of a shard: fail it when bad records exceed the allowed share (a wrong field name, say). */
export function checkBadShare(stats: ShardStats, maxShare: number): void {
  const fileLevel = Object.entries(stats.rejects_by_reason).reduce((a, [k, v]) => a + (FILE_LEVEL.has(k) ? v : 0), 0);
  const read = stats.documents_read - fileLevel;
  if (read > 0 && (stats.documents_rejected - fileLevel) / read > maxShare) {
    const reasons = Object.entries(stats.rejects_by_reason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    throw new PermanentError(
      `shard ${stats.shard}: ${stats.documents_rejected} of ${read} records are bad (${reasons}), over the allowed share ${maxShare} (--max-bad-share)`,
    );
  }
}
