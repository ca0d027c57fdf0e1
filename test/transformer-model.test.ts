import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { writeTinyBertFolder } from '@nextlong/embedding';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readSequences, repoRoot, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';

// --model <folder>: a transformer folder (model.onnx + tokenizer.json) drives the whole run.
// The graph is a small random-weight BERT shape (no pretrained weights are reachable here).
test('a run with a transformer model folder produces exact-T sequences', async () => {
  const { dir, cleanup } = await tempDir('nextlong-bert-');
  try {
    const tokenizerJson = path.join(repoRoot, 'packages', 'embedding', 'fixtures', 'minilm-tokenizer.json');
    const model = await writeTinyBertFolder(path.join(dir, 'model'), tokenizerJson, { vocabSize: 30522, hidden: 32, layers: 1 });
    const out = path.join(dir, 'out');
    const m = await runLocal(
      parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out, model, targetTokens: 2048, sequences: 4, embedMaxTokens: 128, concurrency: 1 }),
      { quiet: true },
    );
    expect(m.counts.sequences_written).toBe(4);
    const tok = loadTokenizer('llama3');
    for (const r of await readSequences(out)) {
      expect(tok.encode(r.text).length).toBe(2048);
      expect(r.segments.filter((s) => s.type === 'negative').every((s) => s.doc_id !== r.id)).toBe(true);
    }
  } finally {
    await cleanup();
  }
});
