/**
 * What the Qdrant searcher remembers of the chunks it has returned, so `texts(keys)` after a
 * `search` needs no request: per key, the chunk's identity (doc id, chunk number — from which
 * the point id follows) and, separately, its text. Both are least-recently-used maps with a
 * bound: refs by count (small entries), texts by total UTF-16 length. A key whose text was
 * evicted but whose ref is kept is fetched by point id; a key never seen cannot be answered.
 */

export interface ChunkRef {
  docId: string;
  chunk: number;
}

export interface ChunkCacheLimits {
  /** Most keys whose (doc id, chunk) is remembered. */
  maxRefs: number;
  /** Most UTF-16 code units of text kept (a text longer than this is not kept). */
  maxTextChars: number;
}

export class ChunkCache {
  private readonly refs = new Map<number, ChunkRef>();
  private readonly texts = new Map<number, string>();
  private textChars = 0;

  constructor(private readonly limits: ChunkCacheLimits) {}

  /** Remembers a chunk (and its text, when known); refreshes its recency. */
  put(key: number, ref: ChunkRef, text?: string): void {
    this.refs.delete(key);
    this.refs.set(key, ref);
    while (this.refs.size > this.limits.maxRefs) this.refs.delete(this.refs.keys().next().value!);
    if (text === undefined) return;
    this.dropText(key);
    if (text.length > this.limits.maxTextChars) return;
    this.texts.set(key, text);
    this.textChars += text.length;
    while (this.textChars > this.limits.maxTextChars) this.dropText(this.texts.keys().next().value!);
  }

  ref(key: number): ChunkRef | undefined {
    return this.refs.get(key);
  }

  /** The cached text of `key` (refreshing its recency), or undefined. */
  text(key: number): string | undefined {
    const t = this.texts.get(key);
    if (t !== undefined) {
      this.texts.delete(key);
      this.texts.set(key, t);
    }
    return t;
  }

  get size(): { refs: number; texts: number; textChars: number } {
    return { refs: this.refs.size, texts: this.texts.size, textChars: this.textChars };
  }

  clear(): void {
    this.refs.clear();
    this.texts.clear();
    this.textChars = 0;
  }

  private dropText(key: number): void {
    const old = this.texts.get(key);
    if (old === undefined) return;
    this.texts.delete(key);
    this.textChars -= old.length;
  }
}
