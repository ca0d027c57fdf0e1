/**
 * Small tokenizer.json files of the two kinds not covered by the MiniLM fixture (WordPiece), in the
 * exact layout Hugging Face `tokenizers` saves: a Unigram one as XLM-R / jina-v3 ship it
 * (Metaspace, <s> … </s>) and a byte-level BPE one as GPT-2 / Qwen ship it (ByteLevel, an
 * end-of-text token appended, as Qwen-based last-token embedders do). Vocabularies are built from
 * `words` so tests control their size.
 */
const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

function template(first: string | undefined, last: string, ids: Record<string, number>) {
  const piece = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
  const single = [...(first ? [piece(first)] : []), { Sequence: { id: 'A', type_id: 0 } }, piece(last)];
  const pair = [...single, { Sequence: { id: 'B', type_id: 0 } }, piece(last)];
  const tokens = Object.fromEntries(Object.entries(ids).map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }]));
  return { type: 'TemplateProcessing', single, pair, special_tokens: tokens };
}

/** Unigram, XLM-R style: ids 0-3 are <s>, <pad>, </s>, <unk>; pieces "▁word" and single characters. */
export function unigramTokenizerJson(words: string[]): string {
  const chars = new Set<string>();
  for (const w of words) for (const c of w) chars.add(c);
  const vocab: [string, number][] = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['▁', -2]];
  for (const w of [...new Set(words)].sort()) vocab.push([`▁${w}`, -3 - w.length / 10]);
  for (const c of [...chars].sort()) vocab.push([c, -6]);
  const meta = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<s>'), special(1, '<pad>'), special(2, '</s>'), special(3, '<unk>')],
    normalizer: null,
    pre_tokenizer: meta,
    post_processor: template('<s>', '</s>', { '<s>': 0, '</s>': 2 }),
    decoder: meta,
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  });
}

/** GPT-2's byte → printable character map (the ByteLevel alphabet). */
function byteAlphabet(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep.includes(b) ? b : 256 + n++));
}

/** Byte-level BPE: the 256 byte symbols, merges that spell each of `words` (with its leading space), <|endoftext|> last. */
export function bpeTokenizerJson(words: string[]): string {
  const alphabet = byteAlphabet();
  const vocab: Record<string, number> = {};
  alphabet.forEach((c, i) => (vocab[c] = i));
  const merges: string[] = [];
  const enc = new TextEncoder();
  for (const w of [...new Set(words)].sort()) {
    // merge left to right: "Ġ"+"c", then "Ġc"+"a", … so the whole word becomes one token
    const symbols = [...enc.encode(` ${w}`)].map((b) => alphabet[b]);
    let cur = symbols[0];
    for (const s of symbols.slice(1)) {
      const next = cur + s;
      if (!(next in vocab)) {
        merges.push(`${cur} ${s}`);
        vocab[next] = Object.keys(vocab).length;
      }
      cur = next;
    }
  }
  const eos = Object.keys(vocab).length;
  const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(eos, '<|endoftext|>')],
    normalizer: null,
    pre_tokenizer: bl,
    post_processor: template(undefined, '<|endoftext|>', { '<|endoftext|>': eos }),
    decoder: bl,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  });
}
