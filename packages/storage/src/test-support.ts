/** Helpers for this package's tests (excluded from the build): the fixture documents, whole-file Parquet reads, failures. */
import { readFile } from 'node:fs/promises';
import { fixturePath, tempDir } from '@nextlong/testing';
import { localFileSource, planParquetShards, readParquetShard, type ParquetRecordOptions } from './parquet-reader.js';
import type { ParquetShardSpec, ShardItem } from './shard-spec.js';

export interface Doc {
  id: string;
  text: string;
}

export const base = { textField: 'text', idField: 'id', maxRecordChars: 1_000_000 };

/** The `{id, text}` of each fixture document (docs-a.slice.jsonl). */
export async function loadFixtureDocs(): Promise<Doc[]> {
  const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((l) => {
    const o = JSON.parse(l) as Doc;
    return { id: o.id, text: o.text };
  });
}

/** Plans and reads a whole file through the local source; returns the shards and the items. */
export async function readAll(file: string, opts: Partial<ParquetRecordOptions> = {}, maxRows?: number) {
  const src = await localFileSource(file);
  try {
    const shards = await planParquetShards(file, src, '', maxRows);
    const items: { shard: ParquetShardSpec; item: ShardItem }[] = [];
    for (const shard of shards) {
      for await (const item of readParquetShard(shard, src, { ...base, ...opts, shardId: shard.id })) items.push({ shard, item });
    }
    return { shards, items };
  } finally {
    await src.close();
  }
}

export const docsOf = (items: { item: ShardItem }[]) => items.map(({ item }) => ('doc' in item ? item.doc : undefined));
export const reasonsOf = (items: { item: ShardItem }[]) => items.map(({ item }) => ('bad' in item ? item.bad.reason : 'ok'));

/** A fresh temporary folder and the fixture documents, for one test file; `cleanup` removes the folder. */
export async function parquetWorkspace(): Promise<{ docs: Doc[]; dir: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir('nextlong-parquet-');
  return { docs: await loadFixtureDocs(), dir, cleanup };
}

export async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

/** The error a promise rejects with (a test failure when it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}
