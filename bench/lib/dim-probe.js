/**
 * Index build cost at a larger embedding dimension without a larger model: a run's segments are
 * rewritten with every vector mapped to `dim` dimensions by one seeded Gaussian random projection
 * (which keeps the pool's neighbourhood structure, Johnson–Lindenstrauss) and renormalized, then
 * built with buildSegmentsIndex — the same chunks, so the two build rates differ by the dimension.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '@nextlong/core';
import { FsObjectStore } from '@nextlong/storage';
import { buildSegmentsIndex, decodeSegment, segmentPoints, writeSegment } from '@nextlong/vectors';

/** Standard normal draws (Box–Muller) from a seeded generator. */
function gaussian(rng, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function project(v, from, to, matrix) {
  const out = new Float32Array(to);
  let norm = 0;
  for (let j = 0; j < to; j++) {
    let s = 0;
    for (let i = 0; i < from; i++) s += v[i] * matrix[i * to + j];
    out[j] = s;
    norm += s * s;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let j = 0; j < to; j++) out[j] *= inv;
  return out;
}

/** Writes `segDir`'s segments projected to `dim` into `storeDir`, builds, returns seconds and chunks. */
export async function buildAtDim(segDir, storeDir, dim, buildOpts) {
  const store = new FsObjectStore(storeDir);
  let matrix;
  for (const name of readdirSync(segDir).sort()) {
    const seg = decodeSegment(readFileSync(path.join(segDir, name)), name);
    matrix ??= gaussian(new Rng('dim-probe'), seg.dim * dim);
    const points = segmentPoints(seg).map((p) => ({ ...p, vector: project(p.vector, seg.dim, dim, matrix) }));
    await writeSegment(store, name.replace(/\.seg$/, ''), points, dim);
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const built = await buildSegmentsIndex(store, buildOpts);
  const cpu = process.cpuUsage(cpu0);
  return { dim, chunks: built.chunks, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}
