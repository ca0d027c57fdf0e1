import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { groupSegments, parseRunConfig, type RunConfig } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, readSequences, startQdrantStandIn, tempDir } from '@nextlong/testing';
import { decodeSegment, qdrantPointId } from '@nextlong/vectors';

// Duplicate document ids: the first occurrence in plan order (shard order, then line) is the
// document; later ones are rejected as duplicate_id (file, line, first file:line), counted once,
// and kept out of the pool — the same on the segments and the qdrant backend.

interface Doc {
  id: string;
  text: string;
}

async function docs(from: number, n: number): Promise<Doc[]> {
  const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).trim().split('\n');
  return lines.slice(from, from + n).map((l) => JSON.parse(l) as Doc);
}

const jsonl = (ds: Doc[]) => ds.map((d) => JSON.stringify(d)).join('\n') + '\n';

/** Every reject line of a run, from the files its manifest lists. */
async function readRejects(out: string, m: Manifest): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (const k of m.rejects) {
    for (const l of (await readFile(path.join(out, k), 'utf8')).trim().split('\n')) all.push(JSON.parse(l) as Record<string, unknown>);
  }
  return all;
}

function expectBalanced(m: Manifest): void {
  const c = m.counts;
  const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
  expect(c.documents_read).toBe(c.sequences_written + discarded + c.documents_rejected + c.documents_unsampled);
}

describe('duplicate document ids', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let corpus: string;
  let first: Doc;
  let laterText: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-dup-'));
    corpus = path.join(dir, 'corpus');
    await mkdir(corpus, { recursive: true });
    const a = await docs(0, 20);
    a[2] = first = { id: a[2]!.id, text: `FIRST-MARKER ${a[2]!.text}` };
    await writeFile(path.join(corpus, 'a.jsonl'), jsonl(a));
    // b.jsonl: line 1 reuses a.jsonl line 3's id with a longer text (more chunks); line 9 repeats line 5's id
    const b = await docs(20, 30);
    const long = (await docs(50, 6)).map((d) => d.text).join('\n');
    laterText = `LATER-MARKER ${long}`;
    b[0] = { id: first.id, text: laterText };
    b[8] = { id: b[4]!.id, text: `WITHIN-MARKER ${b[8]!.text}` };
    await writeFile(path.join(corpus, 'b.jsonl'), jsonl(b));
  });
  afterAll(() => cleanup());

  const config = (out: string, extra: Partial<RunConfig> = {}) =>
    parseRunConfig({ input: [corpus], out, targetTokens: 4096, concurrency: 1, ...extra });

  async function expectDocumented(out: string, m: Manifest): Promise<void> {
    expectBalanced(m);
    expect(m.counts.documents_read).toBe(50);
    expect(m.counts.duplicate_ids).toBe(2);
    expect(m.rejects_by_reason).toEqual({ duplicate_id: 2 });
    const a = path.join(corpus, 'a.jsonl');
    const b = path.join(corpus, 'b.jsonl');
    expect((await readRejects(out, m)).map((r) => [r.file, r.line, r.reason, r.first])).toEqual([
      [b, 1, 'duplicate_id', `${a}:3`],
      [b, 9, 'duplicate_id', `${b}:5`],
    ]);
    const seqs = await readSequences(out);
    expect(new Set(seqs.map((s) => s.id)).size).toBe(seqs.length);
    expect(m.counts.sequences_written + (m.counts.sequences_discarded.too_short ?? 0)).toBe(48);
    // neither later occurrence reached the output, as a meta-document or as a negative
    for (const s of seqs) expect(s.text).not.toMatch(/LATER-MARKER|WITHIN-MARKER/);
    expect(seqs.find((s) => s.id === first.id)?.text).toContain('FIRST-MARKER');
  }

  let segmentsManifest: Manifest;
  test('segments backend: later occurrences rejected and left out of the index', async () => {
    const out = path.join(dir, 'seg');
    segmentsManifest = await runLocal(config(out), { quiet: true });
    await expectDocumented(out, segmentsManifest);
    // the segment of b.jsonl no longer holds the id whose first occurrence is in a.jsonl
    const segs = (await readdir(path.join(out, 'index', 'segments'))).sort();
    const docIds = async (name: string) => decodeSegment(await readFile(path.join(out, 'index', 'segments', name)), name).docIds;
    expect(await docIds(segs.find((f) => f.startsWith('a-'))!)).toContain(first.id);
    expect(await docIds(segs.find((f) => f.startsWith('b-'))!)).not.toContain(first.id);
  });

  test('qdrant backend: the same rejects and counts; the first occurrence owns the colliding point ids', async () => {
    const qdrant = await startQdrantStandIn();
    const saved = process.env.QDRANT_URL;
    process.env.QDRANT_URL = qdrant.url;
    try {
      const out = path.join(dir, 'qdrant');
      const m = await runLocal(config(out, { vectors: 'qdrant' }), { quiet: true });
      await expectDocumented(out, m);
      expect(m.counts.chunks_indexed).toBe(segmentsManifest.counts.chunks_indexed);
      expect(m.rejects_by_reason).toEqual(segmentsManifest.rejects_by_reason);
      // every point id the later (longer) occurrence wrote is the first occurrence's, or gone
      const laterChunks = groupSegments(laterText, 2048).length;
      const firstChunks = groupSegments(first.text, 2048).length;
      expect(laterChunks).toBeGreaterThan(firstChunks);
      const ids = Array.from({ length: laterChunks }, (_, c) => qdrantPointId(first.id, c));
      const res = await fetch(`${qdrant.url}/collections/nextlong-${m.run_id}/points`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids, with_payload: ['chunk', 'text'] }),
      });
      const points = ((await res.json()) as { result: { payload: { chunk: number; text: string } }[] }).result;
      expect(points.map((p) => p.payload.chunk).sort((x, y) => x - y)).toEqual(Array.from({ length: firstChunks }, (_, c) => c));
      expect(points.find((p) => p.payload.chunk === 0)!.payload.text).toMatch(/^FIRST-MARKER/);
    } finally {
      if (saved === undefined) delete process.env.QDRANT_URL;
      else process.env.QDRANT_URL = saved;
      await qdrant.close();
    }
  });

  test('a separate pool: its duplicates are pool rejects, counted once beside the input ones', async () => {
    const pool = path.join(dir, 'pool');
    await mkdir(pool, { recursive: true });
    const p = await docs(56, 20);
    await writeFile(path.join(pool, 'p1.jsonl'), jsonl(p.slice(0, 10)));
    await writeFile(path.join(pool, 'p2.jsonl'), jsonl([{ id: p[3]!.id, text: 'POOL-LATER-MARKER a later pool record' }, ...p.slice(10)]));
    const out = path.join(dir, 'sep');
    const m = await runLocal(config(out, { pool: [pool] }), { quiet: true });
    expectBalanced(m);
    expect(m.counts.duplicate_ids).toBe(3);
    expect(m.rejects_by_reason).toEqual({ duplicate_id: 3 });
    expect(m.counts.pool_documents_rejected).toBe(1);
    const poolRejects = (await readRejects(out, m)).filter((r) => r.file === path.join(pool, 'p2.jsonl'));
    expect(poolRejects).toEqual([expect.objectContaining({ line: 1, reason: 'duplicate_id', first: `${path.join(pool, 'p1.jsonl')}:4` })]);
    expect(m.rejects.filter((k) => k.startsWith('duplicates/'))).toHaveLength(1);
    for (const s of await readSequences(out)) expect(s.text).not.toContain('POOL-LATER-MARKER');
    const segs = await readdir(path.join(out, 'index', 'segments'));
    const p2 = segs.find((f) => f.startsWith('pool-p2-'))!;
    expect(decodeSegment(await readFile(path.join(out, 'index', 'segments', p2)), p2).docIds).not.toContain(p[3]!.id);
  });
});
