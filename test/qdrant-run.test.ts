import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readSequences, startQdrantSimulator, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';

// --vectors qdrant end to end through the adapter, against the in-process REST stand-in (no
// Qdrant server can run here; the adapter's requests are pinned by the recorded exchange test).
test('a run with --vectors qdrant writes valid sequences; QDRANT_URL missing is a config error', async () => {
  const { dir, cleanup } = await tempDir('nextlong-qdrant-');
  const qdrant = await startQdrantSimulator();
  const saved = process.env.QDRANT_URL;
  try {
    const config = (out: string) =>
      parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out, vectors: 'qdrant', targetTokens: 4096, sequences: 8, concurrency: 1 });
    delete process.env.QDRANT_URL;
    await expect(runLocal(config(path.join(dir, 'x')), { quiet: true })).rejects.toThrow(/QDRANT_URL/);
    process.env.QDRANT_URL = qdrant.url;
    const m = await runLocal(config(path.join(dir, 'out')), { quiet: true });
    expect(m.counts.sequences_written).toBe(8);
    expect(m.counts.chunks_indexed).toBeGreaterThan(400);
    const tok = loadTokenizer('llama3');
    for (const r of await readSequences(path.join(dir, 'out'))) {
      expect(tok.encode(r.text).length).toBe(4096);
      const negs = r.segments.filter((s) => s.type === 'negative');
      expect(negs.length).toBeGreaterThan(0);
      expect(negs.every((s) => s.doc_id !== r.id)).toBe(true);
    }
  } finally {
    if (saved === undefined) delete process.env.QDRANT_URL;
    else process.env.QDRANT_URL = saved;
    await qdrant.close();
    await cleanup();
  }
});
