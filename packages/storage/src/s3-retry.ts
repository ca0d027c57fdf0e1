import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { backoffMs, reportRetry } from '@nextlong/core';
import { isTransientSdkError, s3RetryReason } from './s3-errors.js';

/**
 * The SDK's own retries, made visible and long enough: used by multipart uploads, whose parts
 * only the SDK can resend (our per-call retries wrap everything else). Each retry is reported
 * (target `s3`, reason = status or code) and retries go on while the time since the first
 * attempt stays under the budget (DEFAULT_RETRY_BUDGET_MS: rides out a 60 s outage).
 */

interface Token {
  getRetryCount(): number;
  getRetryDelay(): number;
  readonly started: number;
}
interface ErrorInfo {
  error?: unknown;
  errorType: string;
}

function token(count: number, delay: number, started: number): Token {
  return { getRetryCount: () => count, getRetryDelay: () => delay, started };
}

export function visibleRetryStrategy(what: string, budgetMs: () => number): NonNullable<S3ClientConfig['retryStrategy']> {
  const strategy = {
    mode: 'standard',
    async acquireInitialRetryToken(): Promise<Token> {
      return token(0, 0, Date.now());
    },
    async refreshRetryTokenForRetry(t: Token, info: ErrorInfo): Promise<Token> {
      if (!isTransientSdkError(info.error)) throw info.error;
      const attempt = t.getRetryCount() + 1;
      const delayMs = backoffMs(attempt);
      if (Date.now() - t.started + delayMs > budgetMs()) throw info.error;
      const e = info.error as Error | undefined;
      reportRetry({ target: 's3', reason: s3RetryReason(e), attempt, delayMs, what: `${what}: ${e?.name ?? 'error'}` });
      return token(attempt, delayMs, t.started);
    },
    recordSuccess(): void {},
  };
  return strategy as unknown as NonNullable<S3ClientConfig['retryStrategy']>;
}
