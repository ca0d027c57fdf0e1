import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { openObjectStore } from '@nextlong/storage';
import { fixturePath, tempDir } from '@nextlong/testing';
import { countsOf, readRunState } from './read-run.js';

// A run killed during synth has no manifest yet, but its embed and index steps are complete:
// the report's pool and index counts must be theirs, not zeros.
test('an unfinished run counts the pool and the index from their done steps', async () => {
  const { dir, cleanup } = await tempDir('nextlong-read-run-');
  try {
    const out = path.join(dir, 'out');
    const config = parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out, targetTokens: 1024, shardDocs: 20, concurrency: 1 });
    const manifest: Manifest = await runLocal(config, { quiet: true });
    const shards = (JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { inputShards: { id: string }[] }).inputShards;
    expect(shards.length).toBeGreaterThan(1);
    await rm(path.join(out, 'manifest.json'));
    await rm(path.join(out, 'done', 'synth', shards.at(-1)!.id));

    const state = await readRunState(openObjectStore(out));
    expect(state.manifest).toBeUndefined();
    const counts = countsOf(state);
    expect(manifest.counts.chunks_indexed).toBeGreaterThan(0);
    expect(counts.chunks_indexed).toBe(manifest.counts.chunks_indexed);
    expect(counts.pool_documents_read).toBe(manifest.counts.pool_documents_read);
    expect(counts.pool_documents_rejected).toBe(manifest.counts.pool_documents_rejected);
    expect(counts.documents_merged).toBe(0);
    expect(counts.documents_read).toBeLessThan(manifest.counts.documents_read);
  } finally {
    await cleanup();
  }
}, 300_000);
