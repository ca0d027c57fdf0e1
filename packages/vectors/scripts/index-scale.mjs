#!/usr/bin/env node
/**
 * Index build rate and searcher memory of the segments index at several pool sizes (issue 10).
 * Not a test: prints a table. Pools are synthetic: clustered unit vectors (embedding-like) at the
 * static model's dimension, written as segments of SEGMENT_CHUNKS chunks; 1× = 13,991 chunks
 * (docs-a's pool). Needs `npx tsc -b tsconfig.build.json` first (it imports the packages' dist builds).
 *
 *   node packages/vectors/scripts/index-scale.mjs [multiples=1,4,16] [threads=1,2] [repeats=3]
 *
 * For each pool: the build (buildSegmentsIndex with the project's HNSW defaults and
 * `threads`) timed `repeats` times — median and spread of chunks/s — then a child process opens
 * the index, runs 64 searches (limit 600) and reports its RssAnon (private memory) and VmHWM.
 * Reusable pieces: writePool(store, chunks, dim, seed) and openAndMeasure(dir) below.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@nextlong/core';
import { FsObjectStore } from '@nextlong/storage';
import { buildSegmentsIndex, openSegmentsIndex, writeSegment } from '@nextlong/vectors';

const BASE_CHUNKS = 13_991;
const DIM = 100;
const SEGMENT_CHUNKS = 4096;
const HNSW = { connectivity: 16, expansionAdd: 128, expansionSearch: 512 };

/** kB of a /proc/self/status field. */
export function procStatusKb(field) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : NaN;
}

function clustered(rng, centres, n, dim) {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(centres.length)];
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const g = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      const x = c[j] + (0.6 / Math.sqrt(dim)) * g;
      out[i * dim + j] = x;
      s += x * x;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) out[i * dim + j] *= inv;
  }
  return out;
}

/** Writes `chunks` synthetic chunk points (4 per document) as segments of SEGMENT_CHUNKS. */
export async function writePool(store, chunks, dim = DIM, seed = 1) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 64 }, () => clustered(rng, [new Float32Array(dim)], 1, dim));
  for (let first = 0, s = 0; first < chunks; first += SEGMENT_CHUNKS, s++) {
    const n = Math.min(SEGMENT_CHUNKS, chunks - first);
    const v = clustered(rng, centres, n, dim);
    const points = Array.from({ length: n }, (_, i) => {
      const k = first + i;
      return { docId: `d${Math.floor(k / 4)}`, chunk: k % 4, text: `chunk ${k}`, hash: k, vector: v.subarray(i * dim, (i + 1) * dim) };
    });
    await writeSegment(store, `s${String(s).padStart(5, '0')}`, points, dim);
  }
}

/** In a child process: opens the index in `dir`, searches, prints {rssAnonKb, hwmKb, msPerQuery}. */
export function openAndMeasure(dir) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--open', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function childOpen(dir) {
  const base = procStatusKb('RssAnon');
  const ix = await openSegmentsIndex(new FsObjectStore(dir));
  globalThis.gc?.();
  const opened = procStatusKb('RssAnon');
  const rng = new Rng(7);
  const queries = Array.from({ length: 64 }, () => clustered(rng, [new Float32Array(DIM)], 1, DIM));
  const t0 = performance.now();
  for (const q of queries) await ix.search([q], 600, 'd1');
  const ms = (performance.now() - t0) / queries.length;
  globalThis.gc?.();
  console.log(JSON.stringify({ rssAnonKb: procStatusKb('RssAnon'), baseRssAnonKb: base, openedRssAnonKb: opened, hwmKb: procStatusKb('VmHWM'), msPerQuery: ms, partitions: ix.descriptor.partitions.length }));
  await ix.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const multiples = (process.argv[2] ?? '1,4,16').split(',').map(Number);
  const threads = (process.argv[3] ?? '1,2').split(',').map(Number);
  const repeats = Number(process.argv[4] ?? 3);
  const rows = [];
  for (const m of multiples) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nextlong-index-scale-'));
    try {
      const store = new FsObjectStore(dir);
      const chunks = BASE_CHUNKS * m;
      await writePool(store, chunks);
      const rates = {};
      const cpuRates = {};
      // Interleaved repeats: machine noise hits every thread count alike.
      for (let r = 0; r < repeats; r++) {
        for (const t of threads) {
          const [t0, c0] = [performance.now(), process.cpuUsage()];
          await buildSegmentsIndex(store, { ...HNSW, threads: t });
          const cpu = process.cpuUsage(c0);
          (rates[t] ??= []).push(chunks / ((performance.now() - t0) / 1000));
          // CPU seconds of every thread: on a shared machine the wall rate says more about the neighbours.
          (cpuRates[t] ??= []).push(chunks / ((cpu.user + cpu.system) / 1e6));
        }
      }
      const mem = openAndMeasure(dir);
      rows.push({ m, chunks, rates, cpuRates, mem });
      const fmt = (xs) => `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)}]`;
      console.log(
        `${m}x ${chunks} chunks, ${mem.partitions} partition(s): ` +
          threads.map((t) => `threads ${t}: ${fmt(rates[t])} chunks/s wall, ${fmt(cpuRates[t])} per CPU-s`).join('; ') +
          `; searcher RssAnon ${(mem.rssAnonKb / 1024).toFixed(1)} MiB (before open ${(mem.baseRssAnonKb / 1024).toFixed(1)}, opened ${(mem.openedRssAnonKb / 1024).toFixed(1)}), ` +
          `VmHWM ${(mem.hwmKb / 1024).toFixed(1)} MiB, ${mem.msPerQuery.toFixed(2)} ms/query`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const first = rows[0];
  for (const r of rows.slice(1)) {
    for (const t of threads) {
      const ratio = (k) => (median(r[k][t]) / median(first[k][t])).toFixed(2);
      console.log(`rate ${r.m}x/${first.m}x (threads ${t}): wall ${ratio('rates')}, per CPU-s ${ratio('cpuRates')}`);
    }
    console.log(`RssAnon ${r.m}x/${first.m}x: ${(r.mem.rssAnonKb / first.mem.rssAnonKb).toFixed(2)}`);
  }
  for (const r of rows) if (threads.length > 1) console.log(`${r.m}x: threads ${threads.at(-1)}/${threads[0]} rate ${(median(r.rates[threads.at(-1)]) / median(r.rates[threads[0]])).toFixed(2)}`);
}

if (process.argv[2] === '--open') await childOpen(process.argv[3]);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
