/**
 * A fixed number of slots, handed out in request order: the embedder holds one per batch queued
 * in the onnxruntime worker, so the worker always has the next batches waiting (it never idles
 * while this thread tokenizes) and padded batches in memory stay few, however many embed() calls
 * overlap.
 */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`slots: size must be an integer >= 1, got ${size}`);
    this.free = size;
  }

  /** Resolves once a slot is held; earlier requests are served first. */
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a held slot back (to the longest waiting request, if any). */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
