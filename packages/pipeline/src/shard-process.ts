/**
 * Child process of the local executor: runs the shards its parent sends, one at a time,
 * reporting progress and stats over IPC, for every stage of the run. It is started before the
 * run is planned and loads model and tokenizer from the run's config (`preload`) while the
 * parent plans; the index is opened on first use. Each is loaded once.
 */
import { logger, withLogFields, type Embedder, type RunConfig } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { createRunEmbedder, RunContext } from './context.js';
import { readPlan, type Stage } from './run-state.js';
import { runShard } from './run-shard.js';

export type ParentMessage = { type: 'run'; stage: Stage; shardId: string } | { type: 'preload'; config: RunConfig };
export type ChildMessage =
  { type: 'progress'; units: number } | { type: 'done'; stats: unknown } | { type: 'error'; name: string; message: string };

const out = process.argv[2];
if (!out || !process.send) {
  logger().error('shard-process: start it through the local executor');
  process.exit(2);
}

let ctx: Promise<RunContext> | undefined;
let early: { embedder: Promise<Embedder>; config: RunConfig } | undefined;
const send = (m: ChildMessage) => process.send!(m);

/** The run's context, read from `<out>/run.json` on first use (the plan exists by then). */
function context(): Promise<RunContext> {
  ctx ??= (async () => {
    const store = openObjectStore(out!);
    const plan = await readPlan(store);
    if (!plan) throw new Error(`no run plan in ${store.root}`);
    const c = new RunContext(plan, store);
    if (early) c.adoptEmbedder(early.embedder, early.config);
    early = undefined;
    return c;
  })().catch((err: unknown) => {
    ctx = undefined; // the next message tries again
    throw err;
  });
  return ctx;
}

/** Model and tokenizer of the run, loaded before its plan exists. Errors wait for the first shard that needs them. */
function preload(config: RunConfig): void {
  const embedder = createRunEmbedder(config);
  embedder.catch(() => undefined); // not unhandled: the adopting context rethrows it
  early = { embedder, config };
  // synchronous (a second or so): on the next turn, once the model's loading is under way
  setImmediate(() => {
    try {
      loadTokenizer(config.tokenizer); // kept by loadTokenizer for the context
    } catch {
      // the synth shard that needs it reports the error
    }
  });
}

async function run(stage: Stage, shardId: string): Promise<void> {
  let pending = 0;
  const flush = setInterval(() => {
    if (pending) send({ type: 'progress', units: pending });
    pending = 0;
  }, 250);
  try {
    const c = await context();
    const stats = await withLogFields({ run: c.plan.runId, stage, shard: shardId }, () => runShard(c, stage, shardId, (n) => (pending += n)));
    if (pending) send({ type: 'progress', units: pending });
    send({ type: 'done', stats });
  } finally {
    clearInterval(flush);
  }
}

process.on('message', (m: ParentMessage) => {
  if (m.type === 'preload') return preload(m.config);
  run(m.stage, m.shardId).catch((err: unknown) => {
    const e = err as Error;
    send({ type: 'error', name: e.name, message: e.message });
  });
});

process.on('disconnect', () => {
  const closing = ctx ? ctx.then((c) => c.close()) : early?.embedder.then((e) => e.close());
  void Promise.resolve(closing)
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
