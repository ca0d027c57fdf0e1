import { PermanentError, type BadInputError, type ObjectStore } from '@nextlong/core';
import type { ShardSpec } from '@nextlong/storage';
import { keys } from '../run-state.js';
import type { ShardStats } from '../stats.js';

/** Bad records of one shard, written as `<out>/rejects/part-<shard>.jsonl`. */
export class RejectLog {
  private readonly lines: string[] = [];
  constructor(private readonly shard: ShardSpec) {}

  add(line: number, err: BadInputError): void {
    this.lines.push(JSON.stringify({ shard: this.shard.id, file: this.shard.file, line, reason: err.reason, message: err.message }));
  }

  async save(store: ObjectStore): Promise<void> {
    if (this.lines.length) await store.put(keys.rejects(this.shard.id), this.lines.join('\n') + '\n');
  }
}

/** Counts a bad record and logs it. */
export function recordReject(stats: ShardStats, log: RejectLog | undefined, line: number, err: BadInputError): void {
  stats.documents_rejected++;
  stats.rejects_by_reason[err.reason] = (stats.rejects_by_reason[err.reason] ?? 0) + 1;
  log?.add(line, err);
}

/** A broken file is one reject for the whole file: counted, never a reason to fail its shard. */
const FILE_LEVEL = new Set(['truncated_file', 'corrupt_file', 'unreadable_file', 'unsupported_file']);

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
