import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '@nextlong/core';
import { fixturePath } from '@nextlong/testing';
import type { IndexDescriptor } from '@nextlong/vectors';

/** Tokens per sequence of `partitionedConfig`. */
export const PARTITIONED_T = 4096;

/** A small fixture run whose segments index is several graphs (100 chunks each): the thread count has something to change. */
export function partitionedConfig(out: string, extra: Partial<RunConfigInput> = {}): RunConfig {
  return parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: PARTITIONED_T,
    sequences: 24,
    shardDocs: 30,
    concurrency: 1,
    indexPartitionChunks: 100,
    ...extra,
  });
}

/** sha256 of every index file the descriptor names, and the descriptor itself. */
export async function indexFiles(out: string): Promise<{ desc: IndexDescriptor; files: Record<string, string> }> {
  const raw = await readFile(path.join(out, 'index/index.json'), 'utf8');
  const desc = JSON.parse(raw) as IndexDescriptor;
  const files: Record<string, string> = { 'index.json': raw };
  for (const f of [...Object.values(desc.files), ...desc.partitions.map((p) => p.file)]) {
    files[f.name] = createHash('sha256')
      .update(await readFile(path.join(out, 'index', f.name)))
      .digest('hex');
  }
  return { desc, files };
}
