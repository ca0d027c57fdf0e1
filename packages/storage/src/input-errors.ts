import { ConfigError, isRetryable, PermanentError, RetryableError } from '@nextlong/core';
import { CorruptInputError, isCorruptInput } from './corrupt-input.js';

/**
 * Transient or corrupt (DESIGN §8): a failure while reading input is a reject only when the
 * bytes themselves are bad (a decoder error, a compressed frame cut at the real end of the
 * file, a `.gz` that is not gzip) or the file cannot be opened; anything else (a network
 * failure that outlasted its retries, an S3 error, a local I/O error) fails the work, so no
 * record is dropped silently.
 */

const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EISDIR', 'EPERM']);
/** Local I/O failures that may pass (descriptor limits, a busy or flaky device). */
const LOCAL_TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EIO', 'ETIMEDOUT', 'ESTALE']);

/** The reject reason when `err` says the file's bytes are bad or the file cannot be opened; undefined otherwise. */
export function fileRejectReason(err: unknown): string | undefined {
  if (isCorruptInput(err)) return err.reason;
  const e = err as (NodeJS.ErrnoException & { reason?: unknown }) | undefined;
  if (e?.name === 'BadInputError' && typeof e.reason === 'string') return e.reason;
  if (e?.name !== 'RetryableError' && e?.name !== 'PermanentError' && e?.code && UNREADABLE.has(e.code)) return 'unreadable_file';
  return undefined;
}

/** A failure that is no reject, as it should leave the reader: local transient I/O errors become RetryableError. */
export function readFailure(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && LOCAL_TRANSIENT.has(code) && !isRetryable(err)) {
    return new RetryableError(`${file}: read failed (${oneLine((err as Error).message)})`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** What a decompressor's error means for a file whose compressed bytes were all read. */
export function decoderFailure(file: string, kind: 'gzip' | 'zstd', err: unknown, decodedBytes: number): CorruptInputError {
  const e = err as NodeJS.ErrnoException;
  const msg = oneLine(e?.message ?? String(err));
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end|ended in (the )?middle/i.test(msg)) {
    return new CorruptInputError(file, 'truncated_file', `${file}: ${kind} data cut short (${msg})`, { cause: err });
  }
  if (kind === 'gzip' && decodedBytes === 0 && /incorrect header check/i.test(msg)) return notGzip(file);
  return new CorruptInputError(file, 'corrupt_file', `${file}: corrupt ${kind} data (${msg})`, { cause: err });
}

export function notGzip(file: string): CorruptInputError {
  return new CorruptInputError(
    file,
    'not_gzip',
    `${file}: not gzip data (the name ends in .gz but the file does not start with a gzip header)`,
  );
}

/**
 * The one-line error that fails a plan when a file cannot be read: it names the file and keeps
 * the error's class (a RetryableError stays retryable); a file that cannot be opened is a
 * configuration error.
 */
export function planFailure(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const msg = oneLine(e?.message ?? String(err));
  if (fileRejectReason(err) === 'unreadable_file') return new ConfigError(`input: cannot read ${file} (${msg})`);
  const line = `cannot plan input ${file}: ${msg}`;
  if (isRetryable(err)) return new RetryableError(`${line} (gave up after retrying; run again to resume)`, { cause: err });
  if (e?.name === 'PermanentError') return new PermanentError(line, { cause: err });
  return Object.assign(new Error(line, { cause: err }), e?.code ? { code: e.code } : {});
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
