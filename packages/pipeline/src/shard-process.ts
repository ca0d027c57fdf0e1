/**
 * Child process of the local executor: runs the shards its parent sends, one at a time,
 * reporting progress and stats over IPC. Resources (model, index) are opened once.
 */
import { openObjectStore } from '@nextlong/storage';
import { RunContext } from './context.js';
import { readPlan, type Stage } from './run-state.js';
import { runShard } from './run-shard.js';

export type ParentMessage = { type: 'run'; stage: Stage; shardId: string };
export type ChildMessage =
  | { type: 'progress'; units: number }
  | { type: 'done'; stats: unknown }
  | { type: 'error'; name: string; message: string };

const out = process.argv[2];
if (!out || !process.send) {
  console.error('shard-process: start it through the local executor');
  process.exit(2);
}

let ctx: RunContext | undefined;
const send = (m: ChildMessage) => process.send!(m);

process.on('message', (m: ParentMessage) => {
  void (async () => {
    try {
      if (!ctx) {
        const store = openObjectStore(out);
        const plan = await readPlan(store);
        if (!plan) throw new Error(`no run plan in ${store.root}`);
        ctx = new RunContext(plan, store);
      }
      let pending = 0;
      const flush = setInterval(() => {
        if (pending) send({ type: 'progress', units: pending });
        pending = 0;
      }, 250);
      try {
        const stats = await runShard(ctx, m.stage, m.shardId, (n) => (pending += n));
        if (pending) send({ type: 'progress', units: pending });
        send({ type: 'done', stats });
      } finally {
        clearInterval(flush);
      }
    } catch (err) {
      const e = err as Error;
      send({ type: 'error', name: e.name, message: e.message });
    }
  })();
});

process.on('disconnect', () => {
  void ctx?.close().finally(() => process.exit(0));
});
