/**
 * (d) The segments backend's HNSW index vs its exact (brute-force) search, at the synth
 * stage's query size k = 512 on a real pool of ≥ 100k chunks: queries/s, speed-up and
 * recall@k. Goal: speed-up ≥ 10× (the ratio column) with recall@k ≥ 0.95 (in the case name).
 *
 * Pool: the corpus chunked with groupSegments(text, 200) (≈ 124k non-blank chunks on the
 * shared docs-a corpus), embedded with the static model, written as one segment per 256
 * documents to an FsObjectStore in a temp folder, built with buildSegmentsIndex (once per
 * connectivity; the build time is in the note) and opened with openSegmentsIndex —
 * `exact: true` is the baseline, `expansionSearch: ef` the HNSW cases.
 * Queries: a seeded sample of pool chunks, each searched with its own document excluded
 * (as synth does); recall@k = |HNSW top k ∩ exact top k| / |exact top k|, averaged.
 * The embedded vectors are cached in $BENCH_CACHE (default <tmp>/nextlong-bench), keyed by
 * corpus, chunk size and model, so a re-run skips embedding.
 *
 * Scale with:
 *   BENCH_ANN_CHUNK_CHARS=200   chunker max length for the pool
 *   BENCH_ANN_MAX_CHUNKS=<n>    cap the pool
 *   BENCH_ANN_QUERIES=200       queries per timed run (and for recall)
 *   BENCH_ANN_K=512             neighbours per query
 *   BENCH_ANN_M=16,32           HNSW connectivity values, comma-separated
 *   BENCH_ANN_EF=256,512,1024   expansionSearch values
 *   BENCH_ANN_EF_ADD=128        expansionAdd of the build (the config default)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { groupSegments, sampleIndices, textHash } from '@nextlong/core';
import { createEmbedder, ensureStaticModel, readStaticManifest } from '@nextlong/embedding';
import { FsObjectStore } from '@nextlong/storage';
import { buildSegmentsIndex, openSegmentsIndex, writeSegment } from '@nextlong/vectors';

const env = (name, dflt) => process.env[name] ?? dflt;
const list = (s) =>
  String(s)
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);

const CHUNK_CHARS = Number(env('BENCH_ANN_CHUNK_CHARS', 200));
const MAX_CHUNKS = Number(env('BENCH_ANN_MAX_CHUNKS', Infinity));
const QUERIES = Number(env('BENCH_ANN_QUERIES', 200));
const K = Number(env('BENCH_ANN_K', 512));
const CONNECTIVITY = list(env('BENCH_ANN_M', '16,32'));
const EF = list(env('BENCH_ANN_EF', '256,512,1024'));
const EF_ADD = Number(env('BENCH_ANN_EF_ADD', 128));
const DOCS_PER_SEGMENT = 256;
const RECALL_GOAL = 0.95;

/** Non-blank chunks of every document (what the embed step indexes). */
function poolChunks(docs) {
  const chunks = [];
  for (const d of docs) {
    const parts = groupSegments(d.text, CHUNK_CHARS);
    for (let c = 0; c < parts.length && chunks.length < MAX_CHUNKS; c++) {
      if (parts[c].trim() !== '') chunks.push({ docId: d.id, chunk: c, text: parts[c] });
    }
    if (chunks.length >= MAX_CHUNKS) break;
  }
  return chunks;
}

/** Vectors of `chunks` (n × dim, row-major), from the cache file or embedded now. */
async function poolVectors(file, chunks) {
  const dir = await ensureStaticModel();
  const manifest = await readStaticManifest(dir);
  const key = createHash('sha256');
  key.update(JSON.stringify([file.file, file.bytes, file.docs.length, CHUNK_CHARS, chunks.length, manifest?.modelSha256]));
  for (const c of chunks) key.update(c.text);
  const cacheDir = env('BENCH_CACHE', path.join(os.tmpdir(), 'nextlong-bench'));
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

/** Writes the pool as segments (DOCS_PER_SEGMENT documents each) into `store`. */
async function writePool(store, chunks, vectors, dim) {
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
    if (i > 0 && c.docId !== chunks[i - 1].docId && ++docsIn >= DOCS_PER_SEGMENT) await flush();
    points.push({ ...c, hash: textHash(c.text), vector: vectors.subarray(i * dim, (i + 1) * dim) });
  }
  if (points.length) await flush();
  return seg;
}

const fileMB = (f) => statSync(f).size / 1e6;

export default async function annBench({ corpus }) {
  const file = await corpus();
  const chunks = poolChunks(file.docs);
  const { vectors, dim, seconds: embedSeconds, cached } = await poolVectors(file, chunks);
  const poolDocs = new Set(chunks.map((c) => c.docId)).size;

  // queries: a seeded sample of pool chunks with at least one known word (non-zero vector)
  const isZero = (i) => vectors.subarray(i * dim, (i + 1) * dim).every((x) => x === 0);
  const queries = sampleIndices(chunks.length, Math.min(chunks.length, QUERIES * 2), 'ann-bench')
    .filter((i) => !isZero(i))
    .slice(0, QUERIES)
    .map((i) => ({ vector: vectors.slice(i * dim, (i + 1) * dim), docId: chunks[i].docId }));

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'nextlong-bench-ann-'));
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const searchAll = async (index) => {
    const out = [];
    for (const q of queries) out.push((await index.search([q.vector], K, q.docId))[0]);
    return out;
  };

  const stores = [];
  for (const m of CONNECTIVITY) {
    const store = new FsObjectStore(path.join(tmp, `m${m}`));
    const segments = await writePool(store, chunks, vectors, dim);
    const t0 = performance.now();
    await buildSegmentsIndex(store, { connectivity: m, expansionAdd: EF_ADD, expansionSearch: EF[0] });
    const buildSeconds = (performance.now() - t0) / 1000;
    stores.push({ m, store, segments, buildSeconds, hnswMB: fileMB(store.localPath('index/hnsw.usearch')) });
  }

  const exact = await openSegmentsIndex(stores[0].store, { exact: true });
  const truth = await searchAll(exact);
  const cases = [
    {
      name: `exact (brute force), k=${K}`,
      unit: 'queries',
      baseline: true,
      run: async () => (await searchAll(exact)).length,
    },
  ];
  for (const s of stores) {
    for (const ef of EF) {
      const index = await openSegmentsIndex(s.store, { expansionSearch: ef });
      const got = await searchAll(index);
      let recall = 0;
      let short = 0;
      got.forEach((hits, i) => {
        const want = new Set(truth[i].map((h) => h.key));
        recall += want.size ? hits.filter((h) => want.has(h.key)).length / want.size : 1;
        if (hits.length < truth[i].length) short++;
      });
      recall /= got.length;
      const ok = recall >= RECALL_GOAL;
      cases.push({
        name: `HNSW M=${s.m} ef=${ef}: recall@${K} ${recall.toFixed(3)} ${ok ? 'ok' : 'BELOW'}${short ? ` (${short} short)` : ''}`,
        unit: 'queries',
        goal: 10,
        run: async () => (await searchAll(index)).length,
      });
    }
  }
  const builds = stores.map((s) => `M=${s.m}: ${s.buildSeconds.toFixed(1)} s, hnsw ${s.hnswMB.toFixed(0)} MB`).join('; ');
  return {
    title: `ANN: segments HNSW vs exact search, k = ${K}, queries/s (ratio = speed-up)`,
    note:
      `pool: ${chunks.length} chunks (groupSegments ${CHUNK_CHARS}) of ${poolDocs} docs, dim ${dim}, ` +
      `${stores[0].segments} segments; vectors ${embedSeconds ? `embedded in ${embedSeconds.toFixed(1)} s` : 'from cache'} (${cached})\n` +
      `build (expansionAdd ${EF_ADD}, 1 thread): ${builds}\n` +
      `${queries.length} queries = pool chunks, own document excluded; recall goal ≥ ${RECALL_GOAL}, speed-up goal ≥ 10`,
    runs: 3,
    warmup: 1,
    cases,
  };
}
