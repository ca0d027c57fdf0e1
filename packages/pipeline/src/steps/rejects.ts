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

/** Counts a bad record; fails the shard once bad records exceed the allowed share. */
export function recordReject(stats: ShardStats, log: RejectLog | undefined, line: number, err: BadInputError, maxShare: number): void {
  stats.documents_rejected++;
  stats.rejects_by_reason[err.reason] = (stats.rejects_by_reason[err.reason] ?? 0) + 1;
  log?.add(line, err);
  const read = stats.documents_read;
  if (read >= 20 && stats.documents_rejected / read > maxShare) {
    throw new PermanentError(
      `shard ${stats.shard}: ${stats.documents_rejected} of ${read} records are bad (over the allowed share ${maxShare}); last: ${err.message}`,
    );
  }
}
