// Misconfigured model folders fail at load, before any text is embedded, with one
// ConfigError naming the file and the field (issue 15 item 3).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isConfigError } from '@nextlong/core';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import { encodeModel } from './onnx-proto.js';
import { writeTinyBertFolder } from './testing/index.js';

const MINILM = fileURLToPath(new URL('../fixtures/minilm-tokenizer.json', import.meta.url));
const json = (file: string, v: unknown) => mkdir(dirname(file), { recursive: true }).then(() => writeFile(file, JSON.stringify(v)));

let root: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nextlong-model-errors-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A fresh BERT folder (MiniLM tokenizer) with side files written by `setup`. */
async function folder(setup: (dir: string) => Promise<unknown> = async () => {}, vocabSize = 30522): Promise<string> {
  const dir = await writeTinyBertFolder(join(root, `m${n++}`), MINILM, { vocabSize, hidden: 32, layers: 1 });
  await setup(dir);
  return dir;
}

async function loadError(dir: string, options: OnnxEmbedderOptions = {}): Promise<string> {
  const err = await OnnxEmbedder.load(dir, options).then(
    async (e) => {
      await e.close();
      return new Error('loaded');
    },
    (e: unknown) => e as Error,
  );
  expect(isConfigError(err)).toBe(true);
  return err.message;
}

/** A one-node graph: the given int64 inputs, float outputs copied from input_ids' Cast. */
function graph(inputs: string[], outputs: { name: string; shape: (number | string)[] }[]): Uint8Array {
  return encodeModel({
    graph: {
      name: 'odd',
      nodes: outputs.map((o) => ({ op: 'Cast', inputs: ['input_ids'], outputs: [o.name], attrs: { to: { kind: 'int', value: 1 } } })),
      initializers: [],
      inputs: inputs.map((name) => ({ name, type: 'int64' as const, shape: ['batch', 'sequence'] })),
      outputs: outputs.map((o) => ({ ...o, type: 'float32' as const })),
    },
  });
}

describe('inputs and outputs', () => {
  test('an input we cannot feed is named with the model file', async () => {
    const dir = await folder((d) => writeFile(join(d, 'model.onnx'), graph(['input_ids', 'pixel_values'], [{ name: 'last_hidden_state', shape: ['b', 's'] }])));
    expect(await loadError(dir)).toMatch(new RegExp(`${join(dir, 'model.onnx')}: input pixel_values is not one we can feed`));
  });

  test('outputs we do not know are listed with the names we accept', async () => {
    const outs = [
      { name: 'logits', shape: ['b', 's'] },
      { name: 'pooler_output', shape: ['b', 's'] },
    ];
    const dir = await folder((d) => writeFile(join(d, 'model.onnx'), graph(['input_ids', 'attention_mask'], outs)));
    expect(await loadError(dir)).toMatch(/outputs logits, pooler_output; expected one of last_hidden_state, token_embeddings, text_embeds, sentence_embedding/);
  });

  test('task_id without config.json lora_adaptations', async () => {
    const dir = await writeTinyBertFolder(join(root, 'task-no-lora'), MINILM, { vocabSize: 30522, hidden: 32, layers: 1, tasks: 2 });
    expect(await loadError(dir)).toContain(`input task_id needs a task list, but ${join(dir, 'config.json')} has no lora_adaptations`);
  });
});

describe('dimensions and vocabularies', () => {
  test('--embed-dim wider than the model', async () => {
    expect(await loadError(await folder(), { dim: 64 })).toMatch(/embedDim 64 exceeds the width 32 of .*model\.onnx output last_hidden_state/);
  });

  test('a tokenizer with more ids than the model has rows (no config.json): the probe names both files', async () => {
    const dir = await folder(undefined, 1000);
    const msg = await loadError(dir);
    expect(msg).toContain(`${join(dir, 'model.onnx')} fails on token id 30521 of ${join(dir, 'tokenizer.json')}`);
  });

  test('config.json vocab_size smaller than the tokenizer', async () => {
    const dir = await folder((d) => json(join(d, 'config.json'), { vocab_size: 1000 }), 1000);
    expect(await loadError(dir)).toContain(`vocab_size in ${join(dir, 'config.json')} is 1000: tokenizer and model do not match`);
  });
});

describe('sentence-transformers files', () => {
  test('a module we cannot apply (Dense)', async () => {
    const dir = await folder((d) =>
      json(join(d, 'modules.json'), [
        { idx: 0, path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, path: '2_Dense', type: 'sentence_transformers.models.Dense' },
      ]),
    );
    expect(await loadError(dir)).toContain(`${join(dir, 'modules.json')}: [2].type sentence_transformers.models.Dense is not supported`);
  });

  test('a pooling config with no mode, two modes, or an unsupported one', async () => {
    const mods = [
      { idx: 0, path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ];
    const file = (d: string) => join(d, '1_Pooling', 'config.json');
    const none = await folder((d) => Promise.all([json(join(d, 'modules.json'), mods), json(file(d), { pooling_mode_cls_token: false })]));
    expect(await loadError(none)).toContain(`${file(none)}: expected exactly one pooling_mode_* set to true, found none`);
    const two = await folder((d) =>
      Promise.all([json(join(d, 'modules.json'), mods), json(file(d), { pooling_mode_cls_token: true, pooling_mode_mean_tokens: true })]),
    );
    expect(await loadError(two)).toContain('found pooling_mode_cls_token, pooling_mode_mean_tokens');
    const weighted = await folder((d) => Promise.all([json(join(d, 'modules.json'), mods), json(file(d), { pooling_mode_weightedmean_tokens: true })]));
    expect(await loadError(weighted)).toContain(`${file(weighted)}: pooling_mode_weightedmean_tokens is not supported`);
    const missing = await folder((d) => json(join(d, 'modules.json'), mods));
    expect(await loadError(missing)).toContain(`${file(missing)} not found (named by modules.json)`);
  });

  test('default_prompt_name that is not a prompt; a side file that is not JSON', async () => {
    const st = (d: string) => join(d, 'config_sentence_transformers.json');
    const dir = await folder((d) => json(st(d), { prompts: { query: 'q: ' }, default_prompt_name: 'document' }));
    expect(await loadError(dir)).toContain(`${st(dir)}: default_prompt_name "document" is not a key of prompts`);
    const broken = await folder((d) => writeFile(st(d), '{"prompts": '));
    expect(await loadError(broken)).toContain(`${st(broken)}: not valid JSON`);
    // the parser quotes the text around the error: a newline there must not split the one-line message
    const cut = await folder((d) => writeFile(st(d), '{"prompts": tru\n'));
    expect((await loadError(cut)).split('\n')).toHaveLength(1);
  });

  test('tasks: unknown name, or a task for a folder without adapters', async () => {
    const lora = await folder((d) => json(join(d, 'config.json'), { lora_adaptations: ['retrieval.query', 'text-matching'] }));
    expect(await loadError(lora, { task: 'clustering' })).toContain(
      `${join(lora, 'config.json')}: lora_adaptations has no task "clustering" (tasks: retrieval.query, text-matching)`,
    );
    const plain = await folder();
    expect(await loadError(plain, { task: 'retrieval.query' })).toContain(`${join(plain, 'config.json')} declares no lora_adaptations`);
  });

  test('--embed-variant names a file the folder does not have', async () => {
    const dir = await folder();
    expect(await loadError(dir, { variant: 'fp16' })).toContain(`looked for ${join(dir, 'model_fp16.onnx')}, ${join(dir, 'onnx', 'model_fp16.onnx')}`);
  });
});
