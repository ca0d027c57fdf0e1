/**
 * (b) Llama-3 token counting (our tiktoken-backed Tokenizer.count) vs raw `tiktoken` cl100k
 * `encode_ordinary` on the same documents. Goal: tokens/s ratio ≥ 0.9.
 */
import { loadTokenizer } from '@nextlong/tokenizers';
import { get_encoding } from 'tiktoken';

export default async function tokenizeBench({ corpus }) {
  const { docs, bytes } = await corpus();
  const llama3 = loadTokenizer('llama3');
  const cl100k = get_encoding('cl100k_base');
  const count = (f) => {
    let n = 0;
    for (const d of docs) n += f(d.text);
    return n;
  };
  return {
    title: 'token counting: tokens/s',
    note: `${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB; each case counts its own tokens`,
    runs: 3,
    warmup: 1,
    cases: [
      {
        name: 'tiktoken cl100k encode_ordinary',
        unit: 'tokens',
        baseline: true,
        run: () => count((t) => cl100k.encode_ordinary(t).length),
      },
      { name: 'llama3 count (ours)', unit: 'tokens', goal: 0.9, run: () => count((t) => llama3.count(t)) },
      { name: 'llama3 encode (ours)', unit: 'tokens', run: () => count((t) => llama3.encode(t).length) },
    ],
  };
}
