import { readFileSync } from 'node:fs';
import { ConfigError, isConfigError } from '@nextlong/core';
import { get_encoding } from 'tiktoken';
import { BUILTIN_TOKENIZERS, loadTokenizer } from './index.js';

const docs: { text: string }[] = readFileSync(new URL('../../../test/fixtures/docs-a.slice.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(0, 20)
  .map((l) => JSON.parse(l) as { text: string });

describe.each([
  ['cl100k', 'cl100k_base', [15339, 1917]],
  ['o200k', 'o200k_base', [24912, 2375]],
] as const)('%s', (name, encoding, helloWorld) => {
  const tok = loadTokenizer(name);
  const ref = get_encoding(encoding);

  test('loads with its name and known ids', () => {
    expect(tok.name).toBe(name);
    expect(Array.from(tok.encode('hello world'))).toEqual(helloWorld);
  });

  test('equals tiktoken encode_ordinary on the fixture and round-trips', () => {
    for (const d of docs) {
      const ids = tok.encode(d.text);
      expect(Array.from(ids)).toEqual(Array.from(ref.encode_ordinary(d.text)));
      expect(tok.count(d.text)).toBe(ids.length);
      expect(tok.decode(ids)).toBe(d.text);
    }
  });

  test('special-token strings are plain text (no throw, no special ids)', () => {
    const s = 'a <|endoftext|> b <|fim_prefix|><|endofprompt|>';
    expect(Array.from(tok.encode(s))).toEqual(Array.from(ref.encode_ordinary(s)));
    expect(tok.decode(tok.encode(s))).toBe(s);
  });
});

describe('loadTokenizer', () => {
  test('built-in names', () => {
    expect([...BUILTIN_TOKENIZERS]).toEqual(['llama3', 'cl100k', 'o200k']);
    for (const n of BUILTIN_TOKENIZERS) expect(loadTokenizer(n).name).toBe(n);
  });

  test('cached per process', () => {
    expect(loadTokenizer('llama3')).toBe(loadTokenizer('llama3'));
  });

  test.each(['gpt2', 'Llama3', 'llama-3', '', 'missing/tokenizer.json', 'tokenizer.txt'])(
    'unknown %j → ConfigError naming the field and what is allowed',
    (spec) => {
      let err: unknown;
      try {
        loadTokenizer(spec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(isConfigError(err)).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^tokenizer: /);
      expect(msg).toContain('llama3, cl100k, o200k');
      expect(msg).toContain(JSON.stringify(spec));
    },
  );
});
