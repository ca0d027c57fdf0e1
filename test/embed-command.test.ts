import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRunConfig } from '@nextlong/core';
import { createEmbedder, embedderOptionsOf } from '@nextlong/embedding';
import { referenceVector, unigramTokenizerJson, writeTinyBertFolder } from '@nextlong/embedding/testing';
import { repoRoot, tempDir } from '@nextlong/testing';

// `nextlong embed` as users run it (the built binary): a jina-v3-shaped folder, vectors equal to
// the run's embedder with the same settings and to sentence-transformers' computation.
const BIN = path.join(repoRoot, 'apps', 'cli', 'bin', 'nextlong.js');
const LORA = ['retrieval.query', 'retrieval.passage', 'separation', 'classification', 'text-matching'];
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran'];

function cli(args: string[], input: string) {
  const r = spawnSync(process.execPath, [BIN, 'embed', ...args], { input, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('nextlong embed', () => {
  let dir: string;
  let model: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('nextlong-embed-cli-'));
    const tj = path.join(dir, 'tokenizer.json');
    await writeFile(tj, unigramTokenizerJson(WORDS));
    model = await writeTinyBertFolder(path.join(dir, 'jina'), tj, { vocabSize: 30, hidden: 16, layers: 1, tokenTypes: false, tasks: 5, outputName: 'text_embeds' });
    await writeFile(path.join(model, 'config.json'), JSON.stringify({ lora_adaptations: LORA }));
    const prompts = { 'retrieval.query': 'q: ', 'retrieval.passage': 'p: ', separation: '', classification: '', 'text-matching': '' };
    await writeFile(path.join(model, 'config_sentence_transformers.json'), JSON.stringify({ prompts, default_prompt_name: null }));
  });
  afterAll(() => cleanup());

  const docs = [
    { id: 'a', text: 'the cat sat on the mat' },
    { body: 'no text' },
    { id: 7, text: 'the dog ran' },
    { text: 'no id here' },
  ];
  const input = docs.map((d) => JSON.stringify(d)).join('\n') + '\n{oops\n';

  test('one {"id","vector"} per document, as the run embeds a chunk; bad lines reported and skipped', async () => {
    const r = cli(['--model', model, '--embed-task', 'retrieval.passage', '--embed-dim', '8'], input);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2: field "text" is missing/);
    expect(r.stderr).toMatch(/line 5: /);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; vector: number[] });
    expect(out.map((o) => o.id)).toEqual(['a', '7', 'stdin:4']);
    // the run's embedder, from the run's config with the same flags: the same float32 values
    const config = parseRunConfig({ input: ['x'], out: 'y', model, embedTask: 'retrieval.passage', embedDim: 8 });
    const e = await createEmbedder(embedderOptionsOf(config));
    try {
      const want = await e.embed(['the cat sat on the mat', 'the dog ran', 'no id here']);
      out.forEach((o, i) => expect(o.vector).toEqual(Array.from(want[i])));
    } finally {
      await e.close();
    }
    // and what sentence-transformers computes: task 1's adapter, its prompt, mean pooling, first 8 dims
    const ref = await referenceVector(
      { modelFile: path.join(model, 'model.onnx'), tokenizerFile: path.join(model, 'tokenizer.json'), output: 'text_embeds', pooling: 'mean', prompt: 'p: ', taskId: 1, truncateDim: 8 },
      'the cat sat on the mat',
    );
    expect(maxDiff(out[0].vector, ref)).toBeLessThan(2e-5);
  });

  test('a misconfiguration exits 2 with one line naming the file and field, before reading stdin', async () => {
    const r = cli(['--model', model, '--embed-task', 'clustering'], input);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `nextlong: model: ${path.join(model, 'config.json')}: lora_adaptations has no task "clustering" (tasks: ${LORA.join(', ')})`,
    ]);
    const bad = cli(['--model', model, '--embed-pooling', 'median'], input);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/embedPooling/);
  });

  test('--help describes the command', () => {
    const r = spawnSync(process.execPath, [BIN, 'embed', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--embed-task');
  });

  test('the static model works too', () => {
    const r = cli(['--model', 'static'], JSON.stringify({ id: 'x', text: 'long documents and their negatives' }) + '\n');
    expect(r.code).toBe(0);
    const [o] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; vector: number[] });
    expect(o.id).toBe('x');
    expect(Math.hypot(...o.vector)).toBeCloseTo(1, 5);
  });
});
