import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { unigramTokenizerJson, writeTinyBertFolder } from '@nextlong/embedding/testing';
import { runLocal } from '@nextlong/pipeline';
import { fixturePath, readSequences, repoRoot, tempDir } from '@nextlong/testing';
import { loadTokenizer } from '@nextlong/tokenizers';
import { decodeSegment, SEGMENTS_PREFIX } from '@nextlong/vectors';

// --model <folder>: a transformer folder (model.onnx + tokenizer.json) drives the whole run.
// The graph is a small random-weight BERT shape (no pretrained weights are reachable here).
test('a run with a transformer model folder produces exact-T sequences', async () => {
  const { dir, cleanup } = await tempDir('nextlong-bert-');
  try {
    const tokenizerJson = path.join(repoRoot, 'packages', 'embedding', 'fixtures', 'minilm-tokenizer.json');
    const model = await writeTinyBertFolder(path.join(dir, 'model'), tokenizerJson, { vocabSize: 30522, hidden: 32, layers: 1 });
    const out = path.join(dir, 'out');
    const m = await runLocal(
      parseRunConfig({
        input: [fixturePath('docs-a.slice.jsonl')],
        out,
        model,
        targetTokens: 2048,
        sequences: 4,
        embedMaxTokens: 128,
        concurrency: 1,
      }),
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

// A jina-embeddings-v3-shaped folder (task_id input, lora_adaptations, 1_Pooling) drives a run:
// --embed-task and --embed-dim reach the embedder of every shard (the index holds 8-dim vectors).
test('a run with a jina-v3-shaped folder, a task and a Matryoshka width', async () => {
  const { dir, cleanup } = await tempDir('nextlong-jina-');
  try {
    const tj = path.join(dir, 'tokenizer.json');
    await writeFile(tj, unigramTokenizerJson('the of and to in a is that for it as was with be by on not he this are or'.split(' ')));
    const model = await writeTinyBertFolder(
      path.join(dir, 'model'),
      tj,
      { vocabSize: 60, hidden: 16, layers: 1, tokenTypes: false, tasks: 5, outputName: 'text_embeds' },
      'onnx/model.onnx',
    );
    await writeFile(
      path.join(model, 'config.json'),
      JSON.stringify({ lora_adaptations: ['retrieval.query', 'retrieval.passage', 'separation', 'classification', 'text-matching'] }),
    );
    await mkdir(path.join(model, '1_Pooling'));
    await writeFile(path.join(model, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_mean_tokens: true }));
    await writeFile(
      path.join(model, 'modules.json'),
      JSON.stringify([
        { type: 'custom_st.Transformer', path: '' },
        { type: 'sentence_transformers.models.Pooling', path: '1_Pooling' },
      ]),
    );
    const out = path.join(dir, 'out');
    const config = { input: [fixturePath('docs-a.slice.jsonl')], out, model, targetTokens: 2048, sequences: 2, concurrency: 1 };
    const m = await runLocal(parseRunConfig({ ...config, embedTask: 'retrieval.passage', embedDim: 8 }), { quiet: true });
    expect(m.counts.sequences_written).toBe(2);
    const segments = (await readdir(path.join(out, SEGMENTS_PREFIX))).filter((f) => f.endsWith('.seg'));
    expect(segments.length).toBeGreaterThan(0);
    for (const f of segments) expect(decodeSegment(await readFile(path.join(out, SEGMENTS_PREFIX, f)), f).dim).toBe(8);
  } finally {
    await cleanup();
  }
});

// A folder whose pooling config names no mode: one configuration error naming the file, before any shard's work.
test('a misconfigured model folder stops the run before any work', async () => {
  const { dir, cleanup } = await tempDir('nextlong-badmodel-');
  try {
    const tokenizerJson = path.join(repoRoot, 'packages', 'embedding', 'fixtures', 'minilm-tokenizer.json');
    const model = await writeTinyBertFolder(path.join(dir, 'model'), tokenizerJson, { vocabSize: 30522, hidden: 32, layers: 1 });
    await mkdir(path.join(model, '1_Pooling'));
    await writeFile(path.join(model, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_mean_tokens: false }));
    await writeFile(
      path.join(model, 'modules.json'),
      JSON.stringify([
        { type: 'sentence_transformers.models.Transformer', path: '' },
        { type: 'sentence_transformers.models.Pooling', path: '1_Pooling' },
      ]),
    );
    const out = path.join(dir, 'out');
    const run = runLocal(
      parseRunConfig({ input: [fixturePath('docs-a.slice.jsonl')], out, model, targetTokens: 2048, sequences: 2, concurrency: 1 }),
      { quiet: true },
    );
    await expect(run).rejects.toThrow(/1_Pooling[\\/]config\.json/);
    expect(existsSync(path.join(out, 'done'))).toBe(false);
    await rm(out, { recursive: true, force: true });
  } finally {
    await cleanup();
  }
});
