import { JsonlZstWriter, MdsWriter } from '@nextlong/storage';
import type { RunContext } from '../context.js';
import type { OutputRecord } from '../methods/makers.js';
import { keys } from '../run-state.js';

/** Where a synth shard's sequences go: a JSONL.zst part, MDS shards, or both (`--format`). */
export class SequenceSinks {
  private constructor(
    private readonly ctx: RunContext,
    private readonly shardId: string,
    private readonly jsonl?: JsonlZstWriter,
    private readonly mds?: MdsWriter,
  ) {}

  static async open(ctx: RunContext, shardId: string): Promise<SequenceSinks> {
    const format = ctx.plan.config.format;
    const jsonl = format === 'mds' ? undefined : await JsonlZstWriter.create(ctx.tmpDir, `part-${shardId}`);
    const mds = format === 'jsonl' ? undefined : new MdsWriter(ctx.store, keys.mdsDir(shardId));
    return new SequenceSinks(ctx, shardId, jsonl, mds);
  }

  async write(record: OutputRecord, ids: Uint32Array, signal?: AbortSignal): Promise<void> {
    await this.jsonl?.write(record);
    await this.mds?.write(ids, signal);
  }

  async finish(signal?: AbortSignal): Promise<void> {
    if (this.jsonl) await this.ctx.store.putFile(keys.part(this.shardId), await this.jsonl.finish(), signal);
    await this.mds?.finish(signal);
  }

  async abort(): Promise<void> {
    await this.jsonl?.abort();
  }
}
