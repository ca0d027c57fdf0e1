import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from sources or from dist). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const fixturePath = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);

/** A JSONL fixture's documents as id → text, in file order. */
export async function fixtureTexts(name: string): Promise<Map<string, string>> {
  const lines = (await readFile(fixturePath(name), 'utf8')).trim().split('\n');
  return new Map(lines.map((l) => JSON.parse(l) as { id: string; text: string }).map((d) => [d.id, d.text]));
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'nextlong-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
