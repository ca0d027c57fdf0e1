// A model folder read the sentence-transformers way: the pooling, prompt, task and width the
// folder's files choose change the vectors exactly as sentence-transformers' encode() would
// (st-reference.ts: the same random-weight graph run unbatched, pooled in plain JS).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnx-embedder.js';
import { bpeTokenizerJson, referenceVector, type ReferenceOptions, unigramTokenizerJson, writeTinyBertFolder } from './testing/index.js';

const MINILM = fileURLToPath(new URL('../fixtures/minilm-tokenizer.json', import.meta.url));
const TEXTS = ['the cat sat on the mat', 'a dog ran far away from the old mat and the cat'];
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran', 'far', 'away', 'from', 'old', 'and', 'query', 'passage'];
const LORA = ['retrieval.query', 'retrieval.passage', 'separation', 'classification', 'text-matching'];

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const json = (file: string, v: unknown) => mkdir(dirname(file), { recursive: true }).then(() => writeFile(file, JSON.stringify(v)));
const modules = (...extra: string[]) => [
  { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
  { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ...extra.map((t, i) => ({ idx: i + 2, name: String(i + 2), path: `${i + 2}_${t}`, type: `sentence_transformers.models.${t}` })),
];
const poolingConfig = (mode: string, includePrompt = true) => ({
  word_embedding_dimension: 32,
  pooling_mode_cls_token: mode === 'cls',
  pooling_mode_mean_tokens: mode === 'mean',
  pooling_mode_max_tokens: mode === 'max',
  pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len',
  pooling_mode_weightedmean_tokens: false,
  pooling_mode_lasttoken: mode === 'lasttoken',
  include_prompt: includePrompt,
});

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nextlong-stfolder-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Embeds TEXTS with the folder and checks each against the reference, one text at a time and batched. */
async function expectReference(dir: string, options: OnnxEmbedderOptions, ref: Omit<ReferenceOptions, 'tokenizerFile'>): Promise<Float32Array[]> {
  const e = await OnnxEmbedder.load(dir, { batchSize: 2, ...options });
  try {
    const got = await e.embed(TEXTS);
    for (let i = 0; i < TEXTS.length; i++) {
      const want = await referenceVector({ tokenizerFile: join(dir, 'tokenizer.json'), ...ref }, TEXTS[i]);
      expect(got[i].length).toBe(want.length);
      expect(maxDiff(got[i], want)).toBeLessThan(2e-5);
    }
    return got;
  } finally {
    await e.close();
  }
}

describe('BERT export (WordPiece, token_type_ids)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeTinyBertFolder(join(root, 'bert'), MINILM, { vocabSize: 30522, hidden: 32, layers: 1, seed: 5 });
    await json(join(dir, 'modules.json'), modules('Normalize'));
  });
  const ref = { output: 'last_hidden_state', typeIds: true };
  const modelFile = () => join(dir, 'model.onnx');

  test.each(['cls', 'mean', 'max', 'lasttoken', 'mean_sqrt_len'] as const)('1_Pooling/config.json %s pools as sentence-transformers does', async (mode) => {
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig(mode));
    const e = await OnnxEmbedder.load(dir);
    expect(e.folder).toMatchObject({ pooling: mode, poolingSource: join(dir, '1_Pooling', 'config.json'), normalize: true });
    await e.close();
    await expectReference(dir, {}, { ...ref, modelFile: modelFile(), pooling: mode });
  });

  test('the folder pooling matters, and --embed-pooling overrides it', async () => {
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('cls'));
    const cls = await expectReference(dir, {}, { ...ref, modelFile: modelFile(), pooling: 'cls' });
    const mean = await expectReference(dir, { pooling: 'mean' }, { ...ref, modelFile: modelFile(), pooling: 'mean' });
    expect(maxDiff(cls[0], mean[0])).toBeGreaterThan(0.05);
  });

  test('prompts: a document prompt by default, a name or a text by flag, include_prompt false masks it', async () => {
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean'));
    await json(join(dir, 'config_sentence_transformers.json'), { prompts: { query: 'query: ', passage: 'passage: ' }, default_prompt_name: null });
    const base = { ...ref, modelFile: modelFile(), pooling: 'mean' as const };
    const passage = await expectReference(dir, {}, { ...base, prompt: 'passage: ' });
    await expectReference(dir, { prompt: 'query' }, { ...base, prompt: 'query: ' });
    await expectReference(dir, { prompt: 'represent this: ' }, { ...base, prompt: 'represent this: ' });
    const none = await expectReference(dir, { prompt: '' }, base);
    expect(maxDiff(passage[0], none[0])).toBeGreaterThan(0.01);
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean', false));
    const masked = await expectReference(dir, {}, { ...base, prompt: 'passage: ', includePrompt: false });
    expect(maxDiff(masked[0], passage[0])).toBeGreaterThan(0.001);
    await rm(join(dir, 'config_sentence_transformers.json'));
  });

  test('sentence_bert_config.json max_seq_length truncates; --embed-max-tokens caps it lower', async () => {
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean'));
    await json(join(dir, 'sentence_bert_config.json'), { max_seq_length: 6, do_lower_case: false });
    const e = await OnnxEmbedder.load(dir);
    expect(e.maxTokens).toBe(6);
    await e.close();
    await expectReference(dir, {}, { ...ref, modelFile: modelFile(), pooling: 'mean', maxTokens: 6 });
    const capped = await OnnxEmbedder.load(dir, { maxTokens: 4 });
    expect(capped.maxTokens).toBe(4);
    await capped.close();
    await rm(join(dir, 'sentence_bert_config.json'));
  });
});

describe('XLM-R style export (Unigram, no token_type_ids)', () => {
  test('mean pooling from the folder; the model is fed no token_type_ids', async () => {
    const tj = join(root, 'unigram.json');
    await writeFile(tj, unigramTokenizerJson(WORDS));
    const dir = await writeTinyBertFolder(join(root, 'xlmr'), tj, { vocabSize: 40, hidden: 32, layers: 1, tokenTypes: false, seed: 2 });
    await json(join(dir, 'modules.json'), modules());
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean'));
    await expectReference(dir, {}, { modelFile: join(dir, 'model.onnx'), output: 'last_hidden_state', pooling: 'mean' });
  });
});

describe('Qwen style export (byte-level BPE, last-token pooling)', () => {
  test('the last token (the appended end-of-text) is the vector', async () => {
    const tj = join(root, 'bpe.json');
    await writeFile(tj, bpeTokenizerJson(WORDS));
    const dir = await writeTinyBertFolder(join(root, 'qwen'), tj, { vocabSize: 400, hidden: 32, layers: 1, tokenTypes: false, seed: 3 });
    await json(join(dir, 'modules.json'), modules('Normalize'));
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('lasttoken'));
    await expectReference(dir, {}, { modelFile: join(dir, 'model.onnx'), output: 'last_hidden_state', pooling: 'lasttoken' });
  });
});

describe('jina-embeddings-v3 export (task_id, lora_adaptations, Matryoshka)', () => {
  let dir: string;
  beforeAll(async () => {
    const tj = join(root, 'unigram-jina.json');
    await writeFile(tj, unigramTokenizerJson(WORDS));
    dir = await writeTinyBertFolder(
      join(root, 'jina'),
      tj,
      { vocabSize: 40, hidden: 32, layers: 1, tokenTypes: false, tasks: LORA.length, outputName: 'text_embeds', seed: 4 },
      'onnx/model.onnx',
    );
    await json(join(dir, 'config.json'), { lora_adaptations: LORA, vocab_size: 40, max_position_embeddings: 8194 });
    await json(join(dir, 'modules.json'), [
      { idx: 0, name: 'transformer', path: '', type: 'custom_st.Transformer' },
      { idx: 1, name: 'pooler', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: 'normalizer', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]);
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean'));
    const prompts = { 'retrieval.query': 'query: ', 'retrieval.passage': 'passage: ', separation: '', classification: '', 'text-matching': '' };
    await json(join(dir, 'config_sentence_transformers.json'), { prompts, default_prompt_name: null });
  });
  const base = () => ({ modelFile: join(dir, 'onnx', 'model.onnx'), output: 'text_embeds', pooling: 'mean' as const });

  test('default task text-matching: task_id 4 and no prompt', async () => {
    const e = await OnnxEmbedder.load(dir);
    expect(e.folder).toMatchObject({ task: 'text-matching', taskId: 4, prompt: '', modelFile: join(dir, 'onnx', 'model.onnx') });
    expect(e.dim).toBe(32);
    await e.close();
    await expectReference(dir, {}, { ...base(), taskId: 4 });
  });

  test('--embed-task retrieval.passage feeds its adapter and its prompt; tasks differ', async () => {
    const passage = await expectReference(dir, { task: 'retrieval.passage' }, { ...base(), taskId: 1, prompt: 'passage: ' });
    const sep = await expectReference(dir, { task: 'separation' }, { ...base(), taskId: 2 });
    expect(maxDiff(passage[0], sep[0])).toBeGreaterThan(0.01);
  });

  test('--embed-dim keeps a Matryoshka prefix, normalized', async () => {
    const e = await OnnxEmbedder.load(dir, { dim: 8 });
    expect(e.dim).toBe(8);
    await e.close();
    await expectReference(dir, { dim: 8 }, { ...base(), taskId: 4, truncateDim: 8 });
  });
});

describe('a sentence-transformers export with a pooled sentence_embedding output', () => {
  test('used as is (the graph pools the first token, the folder says mean)', async () => {
    const dir = await writeTinyBertFolder(join(root, 'pooled'), MINILM, { vocabSize: 30522, hidden: 32, layers: 1, sentenceEmbedding: true, seed: 6 });
    await json(join(dir, 'modules.json'), modules());
    await json(join(dir, '1_Pooling', 'config.json'), poolingConfig('mean'));
    const ref = { modelFile: join(dir, 'model.onnx'), output: 'token_embeddings', typeIds: true };
    await expectReference(dir, {}, { ...ref, pooling: 'cls' });
    // a pooling flag needs the token vectors, which this export also has
    await expectReference(dir, { pooling: 'max' }, { ...ref, pooling: 'max' });
  });
});

describe('ONNX variants', () => {
  test('onnx/model_fp16.onnx by --embed-variant fp16: float16 output, close to the fp32 graph', async () => {
    const dir = await writeTinyBertFolder(join(root, 'fp16'), MINILM, { vocabSize: 30522, hidden: 32, layers: 1, seed: 8, float16: true }, 'onnx/model_fp16.onnx');
    await writeTinyBertFolder(join(root, 'fp16'), MINILM, { vocabSize: 30522, hidden: 32, layers: 1, seed: 8 }, 'onnx/model.onnx');
    const e16 = await OnnxEmbedder.load(dir, { variant: 'fp16' });
    const e32 = await OnnxEmbedder.load(dir);
    expect(e16.folder?.modelFile).toBe(join(dir, 'onnx', 'model_fp16.onnx'));
    const [a] = await e16.embed([TEXTS[0]]);
    const [b] = await e32.embed([TEXTS[0]]);
    expect(maxDiff(a, b)).toBeLessThan(5e-3);
    expect(maxDiff(a, b)).toBeGreaterThan(0); // really the half-precision graph
    await Promise.all([e16.close(), e32.close()]);
  });
});
