import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Longest stretch of synchronous work between two turns of the event loop. A fleet worker's
 * BullMQ lock renewal, its /metrics and its abort signals all wait for a turn.
 */
export const SLICE_BUDGET_MS = 20;

/**
 * Runs synchronous work over items 0..n-1 in contiguous slices of about `budgetMs` each, yielding
 * to the event loop between slices. The slice size follows the pace measured on the previous slice
 * (and the previous run), so fast work runs in one piece and slow work in many. Only for work whose
 * results do not depend on where the slices fall (each item computed on its own).
 */
export class TimeSlicer {
  private msPerItem: number | undefined; // unknown until the first slice

  constructor(
    private readonly budgetMs = SLICE_BUDGET_MS,
    /** Fewest items per slice (e.g. the threads a native batch call spreads them over). */
    private readonly minItems = 1,
  ) {}

  async run(n: number, work: (start: number, end: number) => void, signal?: AbortSignal): Promise<void> {
    for (let start = 0; start < n;) {
      const pace = this.msPerItem;
      const fit = pace === undefined ? this.minItems : pace === 0 ? n : Math.floor(this.budgetMs / pace);
      const end = Math.min(n, start + Math.max(this.minItems, fit, 1));
      const t0 = performance.now();
      work(start, end);
      this.msPerItem = (performance.now() - t0) / (end - start);
      start = end;
      if (start < n) {
        await nextTurn();
        signal?.throwIfAborted();
      }
    }
  }
}
