/**
 * The ANN bench's pool: the corpus chunked small (many chunks from a modest corpus), embedded with
 * the static model once and cached as raw f32 rows, written as segments for buildSegmentsIndex.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupSegments, textHash } from '@nextlong/core';
import { createEmbedder, ensureStaticModel, readStaticManifest } from '@nextlong/embedding';
import { writeSegment } from '@nextlong/vectors';

/** `$BENCH_CACHE` (default `<tmp>/nextlong-bench`): embedded vectors survive between bench runs. */
export const benchCacheDir = () => process.env.BENCH_CACHE ?? path.join(os.tmpdir(), 'nextlong-bench');

/** Non-blank chunks of every document (what the embed step indexes), at most `maxChunks`. */
export function poolChunks(docs, chunkChars, maxChunks = Infinity) {
  const chunks = [];
  for (const d of docs) {
    const parts = groupSegments(d.text, chunkChars);
    for (let c = 0; c < parts.length && chunks.length < maxChunks; c++) {
      if (parts[c].trim() !== '') chunks.push({ docId: d.id, chunk: c, text: parts[c] });
    }
    if (chunks.length >= maxChunks) break;
  }
  return chunks;
}

/** Vectors of `chunks` (n × dim, row-major), from the cache file or embedded now (1 thread). */
export async function poolVectors(corpusFile, chunks, chunkChars) {
  const manifest = await readStaticManifest(await ensureStaticModel());
  const key = createHash('sha256');
  key.update(JSON.stringify([corpusFile.file, corpusFile.bytes, corpusFile.docs.length, chunkChars, chunks.length, manifest?.modelSha256]));
  for (const c of chunks) key.update(c.text);
  const cacheDir = benchCacheDir();
  const cached = path.join(cacheDir, `ann-vectors-${key.digest('hex').slice(0, 20)}.f32`);
  const dim = manifest?.dim ?? 100;
  if (existsSync(cached) && statSync(cached).size === chunks.length * dim * 4) {
    const buf = readFileSync(cached);
    return { vectors: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), dim, seconds: 0, cached };
  }
  const embedder = await createEmbedder({ model: 'static', batchSize: 64, maxTokens: 512, threads: 1 });
  const vectors = new Float32Array(chunks.length * embedder.dim);
  const t0 = performance.now();
  for (let i = 0; i < chunks.length; i += 4096) {
    const vs = await embedder.embed(chunks.slice(i, i + 4096).map((c) => c.text));
    vs.forEach((v, j) => vectors.set(v, (i + j) * embedder.dim));
  }
  const seconds = (performance.now() - t0) / 1000;
  await embedder.close();
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${cached}.tmp-${process.pid}`;
  writeFileSync(tmp, new Uint8Array(vectors.buffer));
  renameSync(tmp, cached);
  return { vectors, dim: embedder.dim, seconds, cached };
}

/** Writes the pool into `store` as segments of `docsPerSegment` documents; returns the segment count. */
export async function writePool(store, chunks, vectors, dim, docsPerSegment = 256) {
  let seg = 0;
  let docsIn = 0;
  let points = [];
  const flush = async () => {
    await writeSegment(store, `pool-${String(seg++).padStart(4, '0')}`, points, dim);
    points = [];
    docsIn = 0;
  };
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    if (i > 0 && c.docId !== chunks[i - 1].docId && ++docsIn >= docsPerSegment) await flush();
    points.push({ ...c, hash: textHash(c.text), vector: vectors.subarray(i * dim, (i + 1) * dim) });
  }
  if (points.length) await flush();
  return seg;
}
