import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, type Embedder, type Tokenizer } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { RunContext } from '../context.js';
import { planRun } from '../plan.js';
import { embedShard } from './embed.js';

/**
 * The embed step keeps one embed() call in progress while it hands over the next group. These
 * tests drive it with a port implementation whose calls finish in any order or fail, and check
 * that the written segment never depends on that order and that a failure surfaces once.
 */
const DIM = 4;
const vectorOf = (text: string): Float32Array => Float32Array.from({ length: DIM }, (_, d) => text.charCodeAt(d % text.length) + d);

/** An embedder whose n-th call answers after `delayMs(n)` (or fails where `failAt` says). */
function portEmbedder(delayMs: (call: number) => number, failAt?: number): Embedder & { calls: number; maxInProgress: number } {
  let inProgress = 0;
  const e = {
    name: 'port',
    dim: DIM,
    calls: 0,
    maxInProgress: 0,
    close: async () => {},
    async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      const call = e.calls++;
      e.maxInProgress = Math.max(e.maxInProgress, ++inProgress);
      try {
        await new Promise((r) => setTimeout(r, delayMs(call)));
        signal?.throwIfAborted();
        if (call === failAt) throw new Error(`embed call ${call} failed`);
        return texts.map(vectorOf);
      } finally {
        inProgress--;
      }
    },
  };
  return e;
}

let root: string;
let input: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nextlong-embed-step-'));
  input = join(root, 'docs.jsonl');
  const docs = Array.from({ length: 40 }, (_, d) => ({
    id: `d${d}`,
    text: Array.from({ length: 1 + (d % 5) }, (_, p) => `doc ${d} paragraph ${p} ${'x'.repeat(10 + ((d * 7 + p) % 20))}`).join('\n'),
  }));
  await writeFile(input, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the step on the corpus with `embedder`; returns the written segment files' bytes. */
async function segmentWith(embedder: Embedder, name: string, signal?: AbortSignal): Promise<Buffer[]> {
  const out = join(root, name);
  // small chunks and batches: many groups, so many calls overlap
  const config = parseRunConfig({ input: [input], out, chunkChars: 40, embedBatch: 2, charsPerToken: 4, targetTokens: 1024 });
  const store = openObjectStore(out);
  const plan = await planRun(config, store, {} as Tokenizer); // E is configured: the tokenizer is not used
  const ctx = new RunContext(plan, store);
  ctx.getEmbedder = async () => embedder;
  const stats = await embedShard(ctx, plan.poolShards[0]!, () => {}, signal);
  expect(stats.documents_read).toBe(40);
  const keys: string[] = [];
  for await (const k of store.list('index/')) keys.push(k);
  expect(keys.length).toBeGreaterThan(0);
  return Promise.all(keys.sort().map((k) => readFile(store.localPath!(k))));
}

describe('embed step', () => {
  test('the segment does not depend on which embed() call finishes first', async () => {
    const inOrder = portEmbedder(() => 0);
    const want = await segmentWith(inOrder, 'in-order');
    // later calls answer first: each group's points must still land after the previous group's
    const reversed = portEmbedder((call) => Math.max(0, 12 - call));
    const got = await segmentWith(reversed, 'reversed');
    expect(reversed.calls).toBe(inOrder.calls);
    expect(reversed.calls).toBeGreaterThan(5);
    expect(reversed.maxInProgress).toBe(2); // the next group overlaps the previous one, no more
    expect(got.map((b) => b.toString('base64'))).toEqual(want.map((b) => b.toString('base64')));
  });

  test('a failed call fails the shard once, whether it is the last group or not', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const failAt of [0, 3]) {
        await expect(
          segmentWith(
            portEmbedder((c) => (c === failAt ? 5 : 0), failAt),
            `fail-${failAt}`,
          ),
        ).rejects.toThrow(`embed call ${failAt} failed`);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('an abort reaches the embedder and fails the shard', async () => {
    const ac = new AbortController();
    const e = portEmbedder((call) => {
      if (call === 2) ac.abort();
      return 1;
    });
    await expect(segmentWith(e, 'aborted', ac.signal)).rejects.toThrow();
  });
});
