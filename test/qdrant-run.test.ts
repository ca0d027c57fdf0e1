import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readSequences, startQdrantStandIn, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import { qdrantPointId } from '@nextlong/vectors';

type Search = { with_payload: unknown; limit: number };

// --vectors qdrant end to end through the adapter, against the strict in-process stand-in
// derived from Qdrant's OpenAPI document (no Qdrant server can run here). The collection stays
// yellow for a few polls after the last upsert, as while Qdrant's optimizer runs.
test('a run with --vectors qdrant writes valid sequences; QDRANT_URL missing is a config error', async () => {
  const { dir, cleanup } = await tempDir('nextlong-qdrant-');
  const qdrant = await startQdrantStandIn({ yellowPolls: 3 });
  const saved = process.env.QDRANT_URL;
  try {
    const config = (out: string) =>
      parseRunConfig({
        input: [fixturePath('docs-a.slice.jsonl')],
        out,
        vectors: 'qdrant',
        targetTokens: 4096,
        sequences: 8,
        concurrency: 1,
      });
    delete process.env.QDRANT_URL;
    await expect(runLocal(config(path.join(dir, 'x')), { quiet: true })).rejects.toThrow(/QDRANT_URL/);
    process.env.QDRANT_URL = qdrant.url;
    const m = await runLocal(config(path.join(dir, 'out')), { quiet: true });
    expect(m.counts.sequences_written).toBe(8);
    expect(m.counts.chunks_indexed).toBeGreaterThan(400);
    const tok = loadTokenizer('llama3');
    const fetched = new Set(
      qdrant.requests.filter((q) => q.method === 'POST' && /\/points$/.test(q.url)).flatMap((q) => (q.body as { ids: string[] }).ids),
    );
    for (const r of await readSequences(path.join(dir, 'out'))) {
      expect(tok.encode(r.text).length).toBe(4096);
      const negs = r.segments.filter((s) => s.type === 'negative');
      expect(negs.length).toBeGreaterThan(0);
      expect(negs.every((s) => s.doc_id !== r.id)).toBe(true);
      // a negative's text came by point id: searches never carry texts
      for (const n of negs) expect(fetched.has(qdrantPointId(n.doc_id, n.chunk))).toBe(true);
    }

    // every request valid for Qdrant's OpenAPI document (the stand-in answers 400 otherwise)
    expect(qdrant.requests.filter((q) => q.status === 400)).toEqual([]);
    const queries = qdrant.requests.filter((q) => q.url.endsWith('/points/query/batch'));
    const searches = queries.flatMap((q) => (q.body as { searches: Search[] }).searches);
    expect(new Set(searches.map((q) => JSON.stringify(q.with_payload)))).toEqual(new Set(['["doc_id","chunk","hash"]']));
    // texts were fetched for far fewer chunks than the searches returned
    expect(fetched.size).toBeLessThan(searches.reduce((n, q) => n + q.limit, 0) / 4);
    // nothing was searched before the collection reported green
    const first = qdrant.requests.indexOf(queries[0]!);
    const before = qdrant.requests
      .slice(0, first)
      .filter((q) => q.method === 'GET' && q.status === 200)
      .map((q) => (q.result as { status: string }).status);
    expect(before).toContain('yellow');
    expect(before.at(-1)).toBe('green');
  } finally {
    if (saved === undefined) delete process.env.QDRANT_URL;
    else process.env.QDRANT_URL = saved;
    await qdrant.close();
    await cleanup();
  }
});
