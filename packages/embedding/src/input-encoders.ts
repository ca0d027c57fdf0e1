/**
 * Text → token ids for the two model kinds: our word tokenizer for the static model, and a
 * Hugging Face tokenizer.json (the `tokenizers` napi binding) for transformer models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@nextlong/core';
import tokenizers from 'tokenizers';
import type { OrtWorkerSession } from './ort-worker.js';
import { type EncodedTexts, StaticTokenizer } from './static-tokenizer.js';

/** One tokenized text; `typeIds` only where the tokenizer produces them (BERT segment ids). */
export interface EncodedText {
  ids: ArrayLike<number>;
  typeIds?: ArrayLike<number>;
}

export interface InputEncoder {
  readonly maxTokens: number;
  /** `workerIdle`: the onnxruntime worker has nothing queued, so it may take part of the work. */
  encode(texts: string[], signal?: AbortSignal, workerIdle?: boolean): Promise<EncodedText[]>;
}

/**
 * Characters tokenized between two yields to the event loop (5 to 15 ms of work at 10 to 25 M
 * characters/s): between slices this thread answers the worker, timers and lock renewals.
 */
const YIELD_CHARS = 1 << 17;
/** Calls with fewer characters are not worth a worker round trip. */
const SPLIT_MIN_CHARS = 1 << 15;

/** A second thread that tokenizes with the same vocabulary (the onnxruntime worker). */
export interface TokenizerLane {
  tokenize(texts: readonly string[], maxTokens: number): Promise<EncodedTexts & { ms: number }>;
}

export class StaticInputEncoder implements InputEncoder {
  private lane: TokenizerLane | undefined;
  /** Share of a call's characters this thread tokenizes when the lane takes the rest. */
  private share = 0.5;

  constructor(
    private readonly tokenizer: StaticTokenizer,
    readonly maxTokens: number,
  ) {}

  get usesWorker(): boolean {
    return this.lane !== undefined;
  }

  /**
   * Lets `session`'s worker tokenize part of a call. `loaded`: the worker's tokenizer, when its
   * load was started already (loadWorkerTokenizer); else this thread's vocabulary is sent. Checked
   * on a probe text first; returns false (and tokenizes everything on this thread) if the worker
   * cannot or disagrees: from sources with no build of the engine, or a build older than them.
   */
  async useWorker(session: OrtWorkerSession, loaded?: Promise<void>): Promise<boolean> {
    const probe = ["Don't re-tokenize state-of-the-art text, O'Brien's café — twice.", 'h1n1 long-term the'];
    try {
      await (loaded ?? session.loadTokenizer(this.tokenizer.words));
      const got = await session.tokenize(probe, this.maxTokens);
      const want = this.tokenizer.encodeMany(probe, this.maxTokens);
      const same = got.ids.length === want.ids.length && got.ids.every((x, i) => x === want.ids[i]);
      if (same && got.offsets.every((x, i) => x === want.offsets[i])) this.lane = session;
    } catch {
      this.lane = undefined;
    }
    return this.lane !== undefined;
  }

  /**
   * Token ids of every text, on this thread in slices of about YIELD_CHARS (so timers and I/O
   * still run). A big enough call that finds the worker idle is split: the lane tokenizes the
   * tail while this thread does the head; the split point follows both threads' measured
   * speeds, so they finish together. A busy worker is left to run batches.
   */
  async encode(texts: string[], signal?: AbortSignal, workerIdle = true): Promise<EncodedText[]> {
    let chars = 0;
    for (const t of texts) chars += t.length;
    let head = texts.length;
    if (this.lane && workerIdle && chars >= SPLIT_MIN_CHARS) {
      head = 0;
      for (let c = 0; head < texts.length && c < chars * this.share; head++) c += texts[head].length;
    }
    const tail = head < texts.length ? this.lane!.tokenize(texts.slice(head), this.maxTokens) : undefined;
    // if this thread fails or is aborted, still observe the lane's answer
    tail?.catch(() => {});
    const out: EncodedText[] = new Array(texts.length);
    const started = performance.now();
    let headChars = 0;
    for (let from = 0; from < head;) {
      if (from > 0) {
        await new Promise<void>((r) => setImmediate(r));
        signal?.throwIfAborted();
      }
      let to = from;
      for (let c = 0; to < head && c < YIELD_CHARS; to++) c += texts[to].length;
      const { ids, offsets } = this.tokenizer.encodeMany(texts, this.maxTokens, from, to);
      for (let i = from; i < to; i++) {
        out[i] = { ids: ids.subarray(offsets[i - from], offsets[i - from + 1]) };
        headChars += texts[i].length;
      }
      from = to;
    }
    if (tail) {
      const headMs = performance.now() - started;
      const { ids, offsets, ms } = await tail;
      for (let i = head; i < texts.length; i++) out[i] = { ids: ids.subarray(offsets[i - head], offsets[i - head + 1]) };
      // characters per ms on each side → the share that makes both take as long
      if (headChars > 0 && headMs > 0 && ms > 0) {
        const here = headChars / headMs;
        const there = (chars - headChars) / ms;
        const target = here / (here + there);
        this.share = Math.min(0.9, Math.max(0.1, 0.7 * this.share + 0.3 * target));
      }
    }
    return out;
  }
}

/** Has `session`'s worker read `vocabFile` (a static model's vocab.json) into its own tokenizer. */
export function loadWorkerTokenizer(session: OrtWorkerSession, vocabFile: string): Promise<void> {
  return session.loadTokenizerFromFile(vocabFile);
}

type HfTokenizer = InstanceType<typeof tokenizers.Tokenizer>;

/**
 * tokenizer.json through the Rust tokenizers library: its normalizer, pre-tokenizer, model and
 * post-processor ([CLS] … [SEP]) apply exactly as in Python. Padding is ours (per bucket),
 * truncation is set to `maxTokens` and counts the special tokens.
 */
export class HfInputEncoder implements InputEncoder {
  private constructor(
    private readonly tokenizer: HfTokenizer,
    readonly maxTokens: number,
    /** Put before every text (sentence-transformers: prompt + sentence, tokenized together). */
    readonly prompt: string,
  ) {}

  static fromFile(file: string, maxTokens: number, prompt = ''): HfInputEncoder {
    let tokenizer: HfTokenizer;
    try {
      tokenizer = tokenizers.Tokenizer.fromFile(file);
    } catch (err) {
      throw new ConfigError(`model: cannot read tokenizer ${file}: ${(err as Error).message}`);
    }
    tokenizer.disablePadding();
    tokenizer.setTruncation(maxTokens);
    return new HfInputEncoder(tokenizer, maxTokens, prompt);
  }

  /** Highest token id the tokenizer can produce (added tokens included). */
  get maxId(): number {
    let max = 0;
    for (const id of Object.values(this.tokenizer.getVocab(true))) if (id > max) max = id;
    return max;
  }

  /**
   * Leading tokens that belong to the prompt, as sentence-transformers counts them: the prompt
   * tokenized alone, less one (its closing special token).
   */
  async promptTokens(): Promise<number> {
    if (!this.prompt) return 0;
    const [e] = await this.tokenizer.encodeBatch([this.prompt]);
    return Math.max(0, e.getIds().length - 1);
  }

  async encode(texts: string[]): Promise<EncodedText[]> {
    if (texts.length === 0) return [];
    const encodings = await this.tokenizer.encodeBatch(this.prompt ? texts.map((t) => this.prompt + t) : texts);
    return encodings.map((e) => ({ ids: e.getIds(), typeIds: e.getTypeIds() }));
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // a broken side file only loses a default, it is not needed to run
  }
}

/**
 * The longest input a transformer folder declares: sentence-transformers' max_seq_length
 * (what the model was trained with), else the tokenizer's model_max_length, else the
 * position table size, else 512. tokenizer.json's own `truncation` is ignored: exporters
 * often leave an arbitrary value there (MiniLM's says 128).
 */
export function declaredMaxTokens(dir: string): number {
  const candidates = [
    readJson(join(dir, 'sentence_bert_config.json'))?.max_seq_length,
    readJson(join(dir, 'tokenizer_config.json'))?.model_max_length,
    readJson(join(dir, 'config.json'))?.max_position_embeddings,
  ];
  for (const c of candidates) {
    // model_max_length is 1e30 when unset: only trust plausible values
    if (typeof c === 'number' && Number.isInteger(c) && c > 0 && c <= 1 << 16) return c;
  }
  return 512;
}
