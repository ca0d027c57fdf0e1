/**
 * Larger pools from the bench corpus (issue 10): copy 0 is the corpus itself; copy r ≥ 1 holds
 * every paragraph (line) of the corpus in a seeded shuffle, dealt into new documents `syn<r>-<i>`
 * with the original documents' line counts — the same text volume and length distribution, new
 * chunks and new ids. One JSONL file per copy under `$BENCH_CACHE/scale-pool-<key>/`, written
 * once and reused (a pool of n× is the first n files).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '@nextlong/core';
import { benchCacheDir } from './ann-pool.js';

/** Writes `docs` as JSONL to `file` (atomically: a temp file renamed into place). */
function writeJsonl(file, docs) {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let buf = [];
    let size = 0;
    for (const d of docs) {
      const line = `${JSON.stringify({ id: d.id, text: d.text })}\n`;
      buf.push(line);
      if ((size += line.length) > 1 << 22) {
        writeSync(fd, buf.join(''));
        buf = [];
        size = 0;
      }
    }
    writeSync(fd, buf.join(''));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function* shuffledCopy(docs, lines, r) {
  const rng = new Rng(`scale-pool-${r}`);
  const order = Uint32Array.from({ length: lines.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let next = 0;
  for (let i = 0; i < docs.length; i++) {
    const n = docs[i].lineCount;
    const text = Array.from(order.subarray(next, next + n), (k) => lines[k]).join('\n');
    next += n;
    yield { id: `syn${r}-${i}`, text };
  }
}

/** Files of a pool of `copies` × the corpus (paths, in copy order), built when missing. */
export function syntheticPool(corpus, copies) {
  const key = createHash('sha256')
    .update(JSON.stringify([corpus.file, corpus.docs.length, corpus.bytes]))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(benchCacheDir(), `scale-pool-${key}`);
  mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: copies }, (_, r) => path.join(dir, `copy-${String(r).padStart(2, '0')}.jsonl`));
  let lines;
  let docs;
  for (let r = 0; r < copies; r++) {
    if (existsSync(files[r])) continue;
    if (r === 0) {
      writeJsonl(files[r], corpus.docs);
      continue;
    }
    if (!lines) {
      const parts = corpus.docs.map((d) => d.text.split('\n'));
      docs = parts.map((p) => ({ lineCount: p.length }));
      lines = parts.flat();
    }
    writeJsonl(files[r], shuffledCopy(docs, lines, r));
  }
  return files;
}
