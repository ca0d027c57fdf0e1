import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { fixturePath, repoRoot, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import type * as Lanes from './child-lane.js';
import { RunContext } from './context.js';
import { planRun } from './plan.js';
import { isDone } from './run-state.js';
import { INDEX_SHARD, runShard } from './run-shard.js';

// The built module: a lane forks the built dist/shard-process.js (the test command builds first).
const { ChildLane } = (await import(path.join(repoRoot, 'packages', 'pipeline', 'dist', 'child-lane.js'))) as typeof Lanes;

describe('a shard process of the local executor', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('nextlong-lane-')));
  afterAll(() => cleanup());

  test('runs embed and synth shards of one run; one killed while running a shard fails that shard and is replaced', async () => {
    const config = parseRunConfig({
      input: [fixturePath('docs-a.slice.jsonl')],
      out: path.join(dir, 'out'),
      targetTokens: 4096,
      shardDocs: 40,
      concurrency: 2,
    });
    const store = openObjectStore(config.out);
    const plan = await planRun(config, store, loadTokenizer(config.tokenizer));
    expect(plan.inputShards.length).toBeGreaterThanOrEqual(2);
    const lane = new ChildLane(config); // started before the plan existed in the executor; here after it
    try {
      for (const s of plan.poolShards) {
        let docs = 0;
        const stats = await lane.run('embed', s.id, (n) => (docs += n));
        expect(stats.documents_read).toBe(s.records);
        expect(docs).toBe(s.records);
      }
      const ctx = RunContext.forOut(plan);
      await runShard(ctx, 'index', INDEX_SHARD);
      await ctx.close();

      const [first, second] = plan.inputShards;
      const firstPid = lane.pid;
      expect((await lane.run('synth', first!.id, () => {})).sequences_written).toBeGreaterThan(0);

      // kill -9 right after the next shard is handed over: it cannot have finished
      const killed = lane.run('synth', second!.id, () => {});
      process.kill(firstPid!, 'SIGKILL');
      await expect(killed).rejects.toThrow('shard process exited with signal SIGKILL');
      expect(await isDone(store, 'synth', second!.id)).toBe(false);

      const again = await lane.run('synth', second!.id, () => {});
      expect(again.sequences_written).toBeGreaterThan(0);
      expect(lane.pid).not.toBe(firstPid);
      expect(await isDone(store, 'synth', second!.id)).toBe(true);
    } finally {
      await lane.close();
    }
  });
});
