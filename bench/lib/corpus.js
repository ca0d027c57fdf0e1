/**
 * Benchmark text: the shared docs-a corpus when it is there (../shared/corpora/docs-a.jsonl.zst,
 * 3248 documents, 25 MB), else the committed test fixture (80 documents, 1 MB).
 * `BENCH_CORPUS=<file.jsonl[.zst]>` picks another file; `BENCH_MAX_MB=<n>` caps the text read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = join(root, '..', 'shared', 'corpora', 'docs-a.jsonl.zst');
const FIXTURE = join(root, 'test', 'fixtures', 'docs-a.slice.jsonl');

let cached;

/** @returns {Promise<{ file: string, docs: { id: string, text: string }[], bytes: number, chars: number }>} */
export async function loadCorpus() {
  if (cached) return cached;
  const file = process.env.BENCH_CORPUS || (existsSync(SHARED) ? SHARED : FIXTURE);
  let raw = readFileSync(file);
  if (file.endsWith('.zst')) {
    const { decompress } = await import('zstd-napi');
    raw = decompress(raw);
  }
  const maxBytes = Number(process.env.BENCH_MAX_MB || 0) * 1e6;
  const docs = [];
  let bytes = 0;
  let chars = 0;
  for (const line of raw.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const { id, text } = JSON.parse(line);
    if (typeof text !== 'string') continue;
    docs.push({ id: String(id), text });
    bytes += Buffer.byteLength(text, 'utf8');
    chars += text.length;
    if (maxBytes && bytes >= maxBytes) break;
  }
  cached = { file: relative(process.cwd(), file) || file, docs, bytes, chars };
  return cached;
}
