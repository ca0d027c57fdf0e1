import { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { backoffMs, isRetryable, reportRetry, RetryableError, sleep } from '@nextlong/core';
import { s3RetryReason } from './s3-errors.js';

/**
 * One object's bytes as a stream that survives dropped connections: when a GET fails before
 * its body is complete (a reset, a 5xx, a body that ends short of its Content-Length), the
 * read resumes with a ranged GET from the first byte not yet delivered, pinned to the object's
 * ETag, so the consumer (a decompressor, a line reader) sees one continuous stream. Each retry
 * is reported (target `s3`); retries go on while the time since the last byte received stays
 * under the budget, then the stream fails with the RetryableError.
 */
export interface ResumableGet {
  /** One GET from byte `start` (a Range when start > 0), pinned to `etag` when given; errors mapped. */
  open(start: number, etag: string | undefined, signal: AbortSignal | undefined): Promise<GetObjectCommandOutput>;
  /** Maps a failure while reading a body (to RetryableError / PermanentError, or the abort reason). */
  fail(err: unknown): Error;
  /** `S3 getStream s3://bucket/key`, for retry lines and errors. */
  what: string;
  budgetMs(): number;
  signal?: AbortSignal;
}

export function resumableStream(g: ResumableGet): Readable {
  // a reader that stops early (a shard that ends mid-file) destroys the stream: a failure of the
  // GET after that is its end, not a fault to retry
  const closed = { yes: false };
  const stream = Readable.from(chunks(g, closed), { objectMode: false });
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (err, cb) => {
    closed.yes = true;
    destroy(err, cb);
  };
  return stream;
}

async function* chunks(g: ResumableGet, closed: { yes: boolean }): AsyncGenerator<Buffer> {
  const { signal } = g;
  let offset = 0; // bytes delivered downstream
  let total: number | undefined;
  let etag: string | undefined;
  let attempt = 0;
  let since = Date.now();
  for (;;) {
    if (total !== undefined && offset >= total) return;
    let body: Readable | undefined;
    const before = offset;
    const onAbort = () => body?.destroy(signal?.reason as Error);
    try {
      signal?.throwIfAborted();
      const out = await g.open(offset, etag, signal);
      if (before === 0) {
        total = out.ContentLength;
        etag = out.ETag;
      }
      body = out.Body as Readable | undefined;
      if (!body) return;
      signal?.addEventListener('abort', onAbort, { once: true });
      // a server that ignores Range answers 200 with the whole object: skip what we have
      let skip = before > 0 && !out.ContentRange ? before : 0;
      let received = 0;
      try {
        for await (const c of body) {
          let chunk = c as Buffer;
          received += chunk.length;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.length);
            skip -= drop;
            chunk = chunk.subarray(drop);
            if (chunk.length === 0) continue;
          }
          offset += chunk.length;
          yield chunk;
        }
      } catch (err) {
        throw g.fail(err);
      }
      if (out.ContentLength !== undefined && received < out.ContentLength) {
        throw new RetryableError(`${g.what}: the response ended after ${received} of ${out.ContentLength} bytes`);
      }
      return;
    } catch (err) {
      if (closed.yes && !signal?.aborted) return;
      if (signal?.aborted || !isRetryable(err)) throw err;
      if (offset > before) {
        // progress since the last failure: a fresh budget (a long read meets many faults)
        attempt = 0;
        since = Date.now();
      }
      attempt++;
      const delayMs = backoffMs(attempt);
      if (Date.now() - since + delayMs > g.budgetMs()) throw err;
      reportRetry({ target: 's3', reason: s3RetryReason(err), attempt, delayMs, what: `${g.what} at byte ${offset}` });
      await sleep(delayMs, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      body?.destroy();
    }
  }
}
