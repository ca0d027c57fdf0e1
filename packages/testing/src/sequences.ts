import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SequenceRecord } from '@nextlong/core';
import { decompress } from 'zstd-napi';

/** An output record as read back from a part file (DESIGN §4). */
export type OutRecord = SequenceRecord;

/** Every sequence record of an output folder, parts in the manifest's (plan) order. */
export async function readSequences(out: string): Promise<OutRecord[]> {
  const dir = path.join(out, 'sequences');
  const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { parts: { key: string }[] };
  const names = manifest.parts.map((p) => path.basename(p.key));
  const records: OutRecord[] = [];
  for (const n of names) {
    const text = decompress(await readFile(path.join(dir, n))).toString('utf8');
    for (const line of text.split('\n')) if (line) records.push(JSON.parse(line) as OutRecord);
  }
  return records;
}

/** Raw bytes of every part, by name: for byte-identity checks. */
export async function readPartBytes(out: string): Promise<Record<string, string>> {
  const dir = path.join(out, 'sequences');
  const res: Record<string, string> = {};
  for (const n of (await readdir(dir)).sort()) res[n] = decompress(await readFile(path.join(dir, n))).toString('utf8');
  return res;
}
