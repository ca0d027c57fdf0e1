import { configKeys, parseRunConfig } from './config.js';
import { ConfigError, isConfigError } from './errors.js';

const minimal = { input: ['docs.jsonl'], out: 'out' };

function configError(raw: unknown): ConfigError {
  try {
    parseRunConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).name).toBe('ConfigError');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRunConfig', () => {
  test('defaults are the paper and DESIGN §5 defaults', () => {
    const c = parseRunConfig(minimal);
    expect(c).toMatchObject({
      input: ['docs.jsonl'],
      out: 'out',
      pool: [],
      targetTokens: 131072,
      seed: 0,
      chunkChars: 2048,
      placement: 'head',
      budget: 'paper',
      separator: '\n\n',
      tokenizer: 'llama3',
      model: 'static',
      vectors: 'segments',
      format: 'jsonl',
      textField: 'text',
      idField: 'id',
      negativeWeight: 1.5,
    });
    // off by default: measured E, no ceiling (paper), every document
    expect(c.charsPerToken).toBeUndefined();
    expect(c.similarityCeiling).toBeUndefined();
    expect(c.sequences).toBeUndefined();
  });

  test('given values are kept', () => {
    const c = parseRunConfig({
      ...minimal,
      targetTokens: 4096,
      placement: 'random',
      budget: 'exact',
      separator: '',
      similarityCeiling: 0.95,
      charsPerToken: 3.9,
      sequences: 10,
      seed: 7,
    });
    expect(c).toMatchObject({
      targetTokens: 4096,
      placement: 'random',
      budget: 'exact',
      separator: '',
      similarityCeiling: 0.95,
      charsPerToken: 3.9,
      sequences: 10,
      seed: 7,
    });
  });

  test.each([
    [{ ...minimal, placement: 'middle' }, 'placement'],
    [{ ...minimal, budget: 'greedy' }, 'budget'],
    [{ ...minimal, targetTokens: 1.5 }, 'targetTokens'],
    [{ ...minimal, targetTokens: 8 }, 'targetTokens'],
    [{ ...minimal, chunkChars: 0 }, 'chunkChars'],
    [{ ...minimal, seed: -1 }, 'seed'],
    [{ ...minimal, similarityCeiling: 2 }, 'similarityCeiling'],
    [{ ...minimal, negativeWeight: 0 }, 'negativeWeight'],
    [{ ...minimal, vectors: 'faiss' }, 'vectors'],
    [{ ...minimal, format: 'csv' }, 'format'],
    [{ ...minimal, input: [] }, 'input'],
    [{ out: 'out' }, 'input'],
    [{ input: ['a'] }, 'out'],
    [{ ...minimal, input: ['a', ''] }, 'input.1'],
  ])('%j → ConfigError naming %s', (raw, field) => {
    const err = configError(raw);
    expect(err.message).toContain(`${field}:`);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('an unknown key is refused and named', () => {
    const err = configError({ ...minimal, targetToken: 4096 });
    expect(err.message).toContain('targetToken');
  });

  test('not an object', () => {
    expect(configError(null).message).toMatch(/invalid configuration/);
    expect(configError('x').message).toMatch(/invalid configuration/);
  });

  test('configKeys lists every schema field', () => {
    expect(configKeys).toEqual(
      expect.arrayContaining(['input', 'out', 'targetTokens', 'placement', 'budget', 'similarityCeiling', 'overfetch']),
    );
    expect(new Set(configKeys).size).toBe(configKeys.length);
  });
});
