import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fixturePath } from '@nextlong/testing';

/** The system Chromium (Debian's `chromium`; `.ci/run` installs it), or a clear failure. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // next name
    }
  }
  throw new Error('the inspect browser test needs Chromium on PATH: apt-get install -y chromium (or set CHROMIUM_PATH)');
}

/** Strings that would run code or load something if the report inserted text as markup. */
export const HOSTILE = [
  '</script><script>window.__pwned = 1; alert(1)</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '<a href="javascript:window.__pwned=3">click me</a> javascript:alert(3)',
  '<svg onload="window.__pwned = 4"></svg><iframe src="https://example.com/"></iframe>',
  '{"a": "</script>"} <!-- <script>',
  'line\u2028separator\u2029paragraph',
  '<link rel="stylesheet" href="https://example.com/x.css"><style>@import "https://example.com/y.css";</style>',
];

/**
 * The fixture corpus plus hostile documents (fixture texts with hostile paragraphs between
 * theirs, one with a lone surrogate) and two bad lines (rejects with examples).
 */
export async function writeHostileCorpus(file: string): Promise<string[]> {
  const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
  const docs = lines.map((l) => JSON.parse(l) as { id: string; text: string });
  const ids: string[] = [];
  const hostile = docs.slice(0, 4).map((d, i) => {
    const paras = d.text.split('\n');
    const mixed = paras.flatMap((p, j) => (j % 3 === 1 ? [HOSTILE[(i + j) % HOSTILE.length]!, p] : [p]));
    const id = `hostile-${i}-<script>alert(${i})</script>`;
    ids.push(id);
    return JSON.stringify({ id, text: (i === 3 ? 'lone \ud800 surrogate\n' : '') + HOSTILE.join('\n') + '\n' + mixed.join('\n') });
  });
  await writeFile(file, [...lines, ...hostile, '{"id": "broken", "text": ', '{"id": "no-text"}'].join('\n') + '\n');
  return ids;
}
