import { PermanentError, RetryableError } from '@nextlong/core';

/** How AWS SDK failures are told apart: throttling and network errors are retryable, 404s are answers. */

export const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'PriorRequestNotComplete',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
]);
export const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
}

/** Is this a 404 answer (HEAD gives a bodiless NotFound, GET a NoSuchKey)? */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkErrorLike | undefined;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchKey';
}

/** Does this SDK failure deserve another attempt (throttling, 5xx, timeouts, network errors)? */
export function isTransientSdkError(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  if (status !== undefined) return status >= 500 || status === 429 || THROTTLING.has(name) || Boolean(e.$retryable);
  if (name === 'AbortError' || name === 'TimeoutError' || e.$retryable) return true;
  const code = networkCode(e);
  return code !== undefined && NETWORK_CODES.has(code);
}

/** The errno-like code of a network failure, also when the SDK wrapped it (jest's VM realm). */
export function networkCode(e: SdkErrorLike): string | undefined {
  return e.code ?? /\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/.exec(e.message ?? '')?.[1];
}

/** A low-cardinality retry reason for an S3 failure: the HTTP status, else the error code or name. */
export function s3RetryReason(err: unknown): string {
  const e = err as (SdkErrorLike & { cause?: unknown; httpStatusCode?: number }) | undefined;
  const c = (e?.name === 'RetryableError' ? e.cause : e) as (SdkErrorLike & { httpStatusCode?: number }) | undefined;
  if (!c) return 'short_body';
  const status = c.httpStatusCode ?? c.$metadata?.httpStatusCode;
  if (typeof status === 'number') return String(status);
  const code = networkCode(c);
  if (code && /^[A-Z_]+$/.test(code)) return code;
  return c.name ?? 'error';
}

/** What mapS3Error needs of the store: its bucket (for hints) and how to scrub credentials from text. */
export interface S3ErrorContext {
  bucket: string;
  scrub(text: string): string;
}

/**
 * Maps a failure to DESIGN §8: aborts rethrow the signal's reason; throttling, 5xx, timeouts
 * and network errors become RetryableError; other S3 answers (403, 404, 412, 4xx)
 * PermanentError; anything else (a failing source stream, a bug) is returned as it is.
 * Messages name the operation and `where` and are scrubbed of credentials; so is the cause.
 */
export function mapS3Error(ctx: S3ErrorContext, op: string, where: string, err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return (signal.reason as Error) ?? err;
  const known = (err as Error | undefined)?.name;
  if (known === 'RetryableError' || known === 'PermanentError' || known === 'ConfigError') return err as Error;
  const e = (err ?? {}) as SdkErrorLike;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const attempts = e.$metadata?.attempts && e.$metadata.attempts > 1 ? ` after ${e.$metadata.attempts} attempts` : '';
  const detail = ctx.scrub(`${status ? `${status} ` : ''}${name}${e.message && e.message !== name ? `: ${e.message}` : ''}`);
  const cause = sanitize(ctx, e);
  if (name === 'CredentialsProviderError') {
    return new PermanentError(
      `S3 ${op} ${where}: no S3 credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile/role)`,
      { cause },
    );
  }
  // (an AbortError the caller did not ask for is an SDK-side timeout)
  if (isTransientSdkError(e)) return new RetryableError(`S3 ${op} ${where} failed${attempts}: ${detail}`, { cause });
  if (status !== undefined) {
    let hint = '';
    if (name === 'NoSuchBucket') hint = ` (no bucket "${ctx.bucket}")`;
    else if (status === 404) hint = ' (no such object)';
    else if (status === 403) hint = ' (access denied: check the S3 credentials and the bucket policy)';
    else if (status === 412) hint = ' (the object changed while it was being read)';
    return new PermanentError(`S3 ${op} ${where} failed: ${detail}${hint}`, { cause });
  }
  return err instanceof Error ? err : new Error(ctx.scrub(String(err)));
}

/** A plain copy of an SDK error (name, code, status, request id, message, stack) with credentials scrubbed. */
function sanitize(ctx: S3ErrorContext, e: SdkErrorLike): Error {
  const copy = new Error(ctx.scrub(e.message ?? String(e)));
  copy.name = e.name ?? 'Error';
  if (e.stack) copy.stack = ctx.scrub(e.stack);
  return Object.assign(copy, {
    ...(e.code ? { code: e.code } : {}),
    ...(e.$metadata?.httpStatusCode ? { httpStatusCode: e.$metadata.httpStatusCode } : {}),
    ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
  });
}
