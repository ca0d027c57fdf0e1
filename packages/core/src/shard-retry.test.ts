import { z } from 'zod';
import { ConfigError, PermanentError, RetryableError } from './errors.js';
import { backoffMs, failureClass, SHARD_RETRY, shardRetryDelay } from './retry.js';

describe('the shard retry policy (local lanes and fleet workers alike)', () => {
  test('error classes: permanent ones by class or name (they cross processes and queues), retryable, unknown', () => {
    const zod = z.object({ a: z.string() }).safeParse({}).error!;
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect([new PermanentError('p'), new ConfigError('c'), zod, named('PermanentError'), named('UnrecoverableError')].map(failureClass)).toEqual(Array(5).fill('permanent'));
    expect([new RetryableError('r'), named('RetryableError')].map(failureClass)).toEqual(['retryable', 'retryable']);
    expect([new Error('shard process exited with signal SIGKILL'), new TypeError('t'), undefined].map(failureClass)).toEqual(['unknown', 'unknown', 'unknown']);
  });

  test('permanent: no further attempt; others: the policy backoff until the attempt limit', () => {
    const fixed = () => 0.5;
    expect(shardRetryDelay(new PermanentError('p'), 1, SHARD_RETRY, fixed)).toBeUndefined();
    for (let attempt = 1; attempt < SHARD_RETRY.attempts; attempt++) {
      expect(shardRetryDelay(new RetryableError('r'), attempt, SHARD_RETRY, fixed)).toBe(backoffMs(attempt, SHARD_RETRY, fixed));
      expect(shardRetryDelay(new Error('u'), attempt, SHARD_RETRY, fixed)).toBe(backoffMs(attempt, SHARD_RETRY, fixed));
    }
    expect(shardRetryDelay(new RetryableError('r'), SHARD_RETRY.attempts, SHARD_RETRY, fixed)).toBeUndefined();
    // exponential from baseMs, jitter within [1 - jitter, 1] of the step
    expect(shardRetryDelay(new RetryableError('r'), 3, SHARD_RETRY, () => 1)).toBe(4 * SHARD_RETRY.baseMs);
    expect(shardRetryDelay(new RetryableError('r'), 3, SHARD_RETRY, () => 0)).toBe(4 * SHARD_RETRY.baseMs * (1 - SHARD_RETRY.jitter));
  });
});
