import { PermanentError, RetryableError, sleep } from '@nextlong/core';
import type { Schemas } from '@qdrant/js-client-rest';

/**
 * Waiting until a Qdrant collection has finished indexing, so that search results do not depend
 * on how far the optimizer has got (a segment being rebuilt is searched differently than after).
 *
 * What the fields mean (Qdrant docs, "Collections › Collection info"):
 * - `status` green: no optimization running or pending; yellow: optimizing; grey: optimizations
 *   pending but paused (after a restart mid-optimization) until any update operation arrives —
 *   the documented trigger is `PATCH /collections/{name}` with `{"optimizers_config": {}}`;
 *   red: an optimizer failed and did not recover (`optimizer_status.error` says why).
 * - `indexed_vectors_count` counts vectors in HNSW-indexed segments only. Qdrant builds an index
 *   only for segments above `indexing_threshold` (kB), so a small collection stays at 0 indexed
 *   vectors for good (and is searched exactly); both counts are approximate and may briefly count
 *   duplicates during an optimization. So indexed = points is NOT required: green with
 *   optimizer_status `ok` is the condition, and the counts go into the progress lines.
 */

export interface IndexingProbe {
  /** For messages: `Qdrant <url> collection "<name>"`. */
  where: string;
  info(signal?: AbortSignal): Promise<Schemas['CollectionInfo'] | undefined>;
  /** Sends the update that resumes a grey collection's paused optimizations. */
  resume(signal?: AbortSignal): Promise<void>;
}

export interface IndexingWaitOptions {
  indexWaitMs: number;
  indexPollMs: number;
  log: (line: string) => void;
}

/** A progress line at most this often while waiting. */
const PROGRESS_EVERY_MS = 30_000;

function counts(info: Schemas['CollectionInfo']): string {
  return `${info.indexed_vectors_count ?? '?'} of ${info.points_count ?? '?'} vectors in HNSW segments`;
}

function optimizerError(info: Schemas['CollectionInfo']): string | undefined {
  const s = info.optimizer_status as unknown;
  return s && typeof s === 'object' ? String((s as { error?: unknown }).error) : undefined;
}

/**
 * Polls until the collection is green with its optimizer `ok` (starting from `info`, already
 * read); returns the last info. Red (or an optimizer error): PermanentError. Still not green after `indexWaitMs`:
 * RetryableError (the job may be retried later). Grey: resumed once, then waited for.
 */
export async function waitUntilIndexed(
  probe: IndexingProbe,
  info: Schemas['CollectionInfo'],
  o: IndexingWaitOptions,
  signal?: AbortSignal,
): Promise<Schemas['CollectionInfo']> {
  const started = Date.now();
  let lastLine = 0;
  let resumed = false;
  for (;;) {
    const error = optimizerError(info);
    if (info.status === 'green' && !error) {
      if (lastLine) o.log(`qdrant: ${probe.where} is green after ${((Date.now() - started) / 1000).toFixed(0)} s (${counts(info)})`);
      return info;
    }
    if (info.status === 'red' || (error && info.status !== 'grey'))
      throw new PermanentError(`${probe.where} is ${info.status}: its optimizer failed: ${error ?? 'no error given'}`);
    const waited = Date.now() - started;
    if (waited >= o.indexWaitMs) {
      throw new RetryableError(
        `${probe.where} is still ${info.status} after ${(waited / 1000).toFixed(0)} s (${counts(info)}): indexing has not finished; ` +
          'searching now would give results that depend on the optimizer’s progress (a longer wait: --qdrant-index-wait-seconds)',
      );
    }
    if (info.status === 'grey' && !resumed) {
      o.log(`qdrant: ${probe.where} is grey (optimizations paused: ${error ?? 'pending'}); resuming them`);
      await probe.resume(signal);
      resumed = true;
    }
    if (lastLine === 0 || Date.now() - lastLine >= PROGRESS_EVERY_MS) {
      o.log(
        `qdrant: waiting for ${probe.where} to finish indexing: ${info.status}, ${counts(info)}, ${(waited / 1000).toFixed(0)} s of at most ${(o.indexWaitMs / 1000).toFixed(0)} s`,
      );
      lastLine = Date.now();
    }
    await sleep(o.indexPollMs, signal);
    const next = await probe.info(signal);
    if (!next) throw new PermanentError(`${probe.where}: the collection was deleted while waiting for its indexing`);
    info = next;
  }
}
